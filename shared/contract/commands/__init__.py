"""Every command of the contract, one module per owning service (its command stream)."""

from shared.contract.commands import actions
from shared.contract.commands.actions import RegisterDeployment

__all__ = ["RegisterDeployment", "actions"]
