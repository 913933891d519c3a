"""The actions service's decider: its state, `decide` and `evolve`, and the commands it owns.

`decider_for(policy)` binds the change-request policy (built by the composition root from its
settings); `deployments` is the decider under the default policy (HIGH and CRITICAL guarded, 7 days).
"""

from __future__ import annotations

from services.actions.domain.change_requests import REVIEWS
from services.actions.domain.decide import decide_under
from services.actions.domain.evolve import FOLDED, evolve
from services.actions.domain.lifecycle import RUNNABLE
from services.actions.domain.policy import DEFAULT_POLICY, Policy
from services.actions.domain.state import DeploymentState
from shared.contract.commands.actions import ActionsCommand, RegisterDeployment
from shared.domain.decider import Decider

COMMANDS: tuple[type[ActionsCommand], ...] = (RegisterDeployment, *RUNNABLE, *REVIEWS)


def decider_for(policy: Policy) -> Decider[DeploymentState, ActionsCommand]:
    return Decider(
        state_type=DeploymentState,
        initial=DeploymentState.initial,
        decide=decide_under(policy),
        evolve=evolve,
        commands=COMMANDS,
        folds=FOLDED,
    )


deployments = decider_for(DEFAULT_POLICY)
