"""The one error a training job answers with: a reason a person can act on."""

from __future__ import annotations


class CannotTrain(ValueError):
    """The request cannot be trained as asked (missing file, missing target, too little data, ...).

    The message is the `error` of the TrainingFailed answer, so it names the file, the column or the
    value at fault."""
