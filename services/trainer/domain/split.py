"""The holdout: rows kept aside to score every candidate on data it was not fitted on."""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Sequence

from services.trainer.domain.errors import CannotTrain


@dataclasses.dataclass(frozen=True, slots=True)
class Split:
    train: tuple[int, ...]
    holdout: tuple[int, ...]


def holdout_split(count: int, fraction: float, seed: int, labels: Sequence[str] | None = None) -> Split:
    """Row indices for training and holdout, the same for the same inputs.

    With `labels` (classification) the split is stratified: each class keeps its share in both
    parts, and a class with two rows or more appears in both, so every class is scored."""
    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be between 0 and 1, not {fraction}")
    if count < 2:
        raise CannotTrain(f"{count} row(s) cannot be split into training and holdout")
    if labels is not None and len(labels) != count:
        raise ValueError(f"{len(labels)} labels for {count} rows")
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for index in range(count):
        groups[labels[index] if labels is not None else ""].append(index)
    holdout: list[int] = []
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        take = round(len(members) * fraction)
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)
        holdout += members[:take]
    if not holdout:
        raise CannotTrain(f"a holdout of {fraction:.0%} of {count} rows is empty")
    kept = set(holdout)
    return Split(train=tuple(i for i in range(count) if i not in kept), holdout=tuple(sorted(holdout)))
