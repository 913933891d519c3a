"""Every message type of the contract, listed once, and the one way to build a registry from them.

A new event or command is added here as well as in its module; nothing registers itself on import.
Each service builds its registry at start and names the types it consumes (`required`), so a type
that is missing here stops the service at start with its name instead of being dead-lettered.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.contract import commands as cmd
from shared.contract import events as ev
from shared.contract.messages import Command, Message, MessageRegistry, Upcaster

ALL_EVENTS: tuple[type[Message], ...] = (  # Message: ModelPackageRegistered is keyed by package, not deployment
    # deployment stream
    ev.DeploymentCreated,
    ev.DeploymentActivated,
    ev.DeploymentDeactivated,
    ev.DeploymentErrored,
    ev.DeploymentDeleted,
    ev.DeploymentErased,
    ev.DeploymentImportanceChanged,
    ev.DeploymentSettingsChanged,
    ev.DeploymentShared,
    ev.DeploymentAccessRevoked,
    ev.DeploymentStatisticsCleared,
    ev.ModelReplaced,
    ev.ModelReplacementValidated,
    ev.ModelReplacementRejected,
    ev.ChallengerAdded,
    ev.ChallengerRemoved,
    ev.ChangeRequestOpened,
    ev.ChangeRequestApproved,
    ev.ChangeRequestRejected,
    ev.ChangeRequestCanceled,
    ev.ChangeRequestExpired,
    ev.CommandRejected,
    # registry stream
    ev.ModelPackageRegistered,
    # monitoring stream
    ev.PredictionsRecorded,
    ev.ServiceHealthChanged,
    ev.DriftDetected,
    ev.AccuracyChanged,
    ev.FairnessChanged,
    # retraining stream
    ev.RetrainingSettingsChanged,
    ev.RetrainingPolicyCreated,
    ev.RetrainingPolicyUpdated,
    ev.RetrainingPolicyDeleted,
    ev.RetrainingRunStarted,
    ev.RetrainingRunStepChanged,
    ev.RetrainingRunSucceeded,
    ev.RetrainingRunFailed,
    ev.RetrainingRunCanceled,
    # training-jobs stream
    ev.TrainingRequested,
    ev.TrainingSucceeded,
    ev.TrainingFailed,
    ev.TrainingCanceled,
)

ALL_COMMANDS: tuple[type[Command], ...] = (
    # actions-commands stream
    cmd.RegisterDeployment,
    cmd.ActivateDeployment,
    cmd.DeactivateDeployment,
    cmd.DeleteDeployment,
    cmd.EraseDeployment,
    cmd.ChangeImportance,
    cmd.ChangeDeploymentSettings,
    cmd.ShareDeployment,
    cmd.RevokeAccess,
    cmd.ClearStatistics,
    cmd.ApproveChangeRequest,
    cmd.RejectChangeRequest,
    cmd.CancelChangeRequest,
    cmd.ExpireChangeRequest,
    # replacement-commands stream
    cmd.ValidateReplacement,
    cmd.ReplaceModel,
    cmd.RollbackModel,
    cmd.AddChallenger,
    cmd.RemoveChallenger,
    cmd.PromoteChallenger,
    # retraining-commands stream
    cmd.ChangeRetrainingSettings,
    cmd.CreateRetrainingPolicy,
    cmd.UpdateRetrainingPolicy,
    cmd.DeleteRetrainingPolicy,
    cmd.RunRetrainingPolicy,
    cmd.CancelRetrainingRun,
    cmd.StartScheduledRun,
    cmd.StartTriggeredRun,
    cmd.AdvanceRun,
    cmd.ExpireTraining,
)

UPCASTERS: tuple[tuple[str, int, Upcaster], ...] = ()
"""(type name, from version, function) for every payload version that is no longer the newest."""


def build_registry(
    *models: type[Message],
    required: Iterable[type[Message]] = (),
    consumer: str = "this service",
    upcasters: Iterable[tuple[str, int, Upcaster]] = UPCASTERS,
) -> MessageRegistry:
    """A registry of `models`; raises MissingMessageTypes, naming them, when a `required` type is absent."""
    registry = MessageRegistry()
    for model in models:
        registry.register(model)
    for type_name, from_version, upcaster in upcasters:
        registry.register_upcaster(type_name, from_version, upcaster)
    registry.require(required, consumer=consumer)
    return registry


def contract_registry() -> MessageRegistry:
    """Every event and command: for tools that read any topic (CLI, replay, schemas)."""
    return build_registry(*ALL_EVENTS, *ALL_COMMANDS)
