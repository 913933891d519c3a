"""The actions service's decider: its state, `decide` and `evolve`, and the commands it owns."""

from __future__ import annotations

from services.actions.domain.decide import decide
from services.actions.domain.evolve import FOLDED, evolve
from services.actions.domain.state import DeploymentState
from shared.contract.commands.actions import ActionsCommand, RegisterDeployment
from shared.domain.decider import Decider

COMMANDS: tuple[type[ActionsCommand], ...] = (RegisterDeployment,)

deployments: Decider[DeploymentState, ActionsCommand] = Decider(
    state_type=DeploymentState,
    initial=DeploymentState.initial,
    decide=decide,
    evolve=evolve,
    commands=COMMANDS,
    folds=FOLDED,
)
