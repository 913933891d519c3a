"""Settings and policies: who may change them, the five-policy limit, what a command may carry."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from services.retraining.domain import codes
from services.retraining.domain.decider import retraining
from services.retraining.domain.rules import Rules
from shared.contract import events as ev
from shared.contract.commands.retraining import (
    ChangeRetrainingSettings,
    CreateRetrainingPolicy,
    DeleteRetrainingPolicy,
    RunRetrainingPolicy,
    UpdateRetrainingPolicy,
)
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import ModelAction, ModelSelection, Schedule, Trigger, TriggerType
from shared.contract.events.values import Role
from shared.contract.messages import Actor
from shared.domain.decider import Rejection
from shared.domain.testing import given
from tests.unit.retraining.builders import (
    ADMIN,
    CONSUMER,
    DRIFT,
    GROUP_OWNER,
    NIGHTLY,
    OWNER,
    STRANGER,
    USER,
    D,
    command,
    created,
    policy_created,
    shared,
    team,
)


def settings(actor: Actor = OWNER, user: str = "alice") -> ChangeRetrainingSettings:
    cmd: ChangeRetrainingSettings = command(
        ChangeRetrainingSettings, actor, retraining_user=user, dataset_id="/data/churn.parquet"
    )
    return cmd


def create(actor: Actor = OWNER, command_id: str = "c-create", **fields: Any) -> CreateRetrainingPolicy:
    values: dict[str, Any] = {"name": "on drift", "trigger": DRIFT}
    cmd: CreateRetrainingPolicy = command(CreateRetrainingPolicy, actor, command_id, **(values | fields))
    return cmd


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("actor", [OWNER, GROUP_OWNER, ADMIN])
def test_owners_and_admins_change_the_settings(actor: Actor) -> None:
    given(retraining, *team()).when(settings(actor, user="bob")).then(
        ev.RetrainingSettingsChanged(
            deployment_id=D, retraining_user="bob", dataset_id="/data/churn.parquet", prediction_environment_id=None
        )
    )


@pytest.mark.parametrize("actor", [USER, CONSUMER, STRANGER])
def test_others_may_not_change_the_settings(actor: Actor) -> None:
    given(retraining, *team()).when(settings(actor)).then_rejected(codes.FORBIDDEN, reason_contains="needs OWNER")


def test_the_retraining_user_must_be_an_owner() -> None:
    given(retraining, *team()).when(settings(user="uma")).then_rejected(
        codes.RETRAINING_USER_NOT_OWNER, reason_contains="uma"
    )
    # an owner through a group may name themselves: their groups are known
    given(retraining, *team()).when(settings(GROUP_OWNER, user="gina")).then(
        ev.RetrainingSettingsChanged(deployment_id=D, retraining_user="gina", dataset_id="/data/churn.parquet")
    )
    # but an admin is not an owner of the deployment
    given(retraining, *team()).when(settings(ADMIN, user="root")).then_rejected(codes.RETRAINING_USER_NOT_OWNER)


# ---------------------------------------------------------------- policies


def test_an_owner_creates_a_policy_whose_id_derives_from_the_command() -> None:
    state = (
        given(retraining, *team())
        .when(create(model_action=ModelAction.MODEL_REPLACEMENT))
        .then(
            ev.RetrainingPolicyCreated(
                deployment_id=D,
                policy_id=derived_id("c-create", "policy"),
                name="on drift",
                trigger=DRIFT,
                model_selection=ModelSelection.AUTOPILOT_RECOMMENDED,
                model_action=ModelAction.MODEL_REPLACEMENT,
                modeling_strategy="same_as_champion",
            )
        )
    )
    assert [p.name for p in state.policies] == ["on drift"]


def test_policies_need_settings_first() -> None:
    given(retraining, created()).when(create()).then_rejected(codes.NO_RETRAINING_SETTINGS)


def test_the_sixth_policy_is_refused_with_a_reason() -> None:
    five = [policy_created(f"p-{n}") for n in range(5)]
    given(retraining, *team(), *five).when(create()).then_rejected(
        codes.POLICY_LIMIT, reason_contains="at most 5: delete one first"
    )
    after_delete = [*five, ev.RetrainingPolicyDeleted(deployment_id=D, policy_id="p-0")]
    given(retraining, *team(), *after_delete).when(create()).then(
        *_created_by(create()),
    )


def test_the_limit_comes_from_the_rules() -> None:
    from services.retraining.domain.decider import decider_for

    two = decider_for(Rules(max_policies=2))
    given(two, *team(), policy_created("p-1"), policy_created("p-2")).when(create()).then_rejected(codes.POLICY_LIMIT)


@pytest.mark.parametrize("actor", [USER, CONSUMER, STRANGER])
def test_only_owners_create_update_and_delete_policies(actor: Actor) -> None:
    history = [*team(), policy_created("p-1")]
    given(retraining, *history).when(create(actor)).then_rejected(codes.FORBIDDEN)
    update = command(UpdateRetrainingPolicy, actor, policy_id="p-1", name="renamed")
    given(retraining, *history).when(update).then_rejected(codes.FORBIDDEN)
    given(retraining, *history).when(command(DeleteRetrainingPolicy, actor, policy_id="p-1")).then_rejected(
        codes.FORBIDDEN
    )


def test_a_revoked_owner_loses_the_right() -> None:
    revoked = ev.DeploymentAccessRevoked(deployment_id=D, principal="ml-team")
    given(retraining, *team()).when(create(GROUP_OWNER)).then(*_created_by(create(GROUP_OWNER)))
    given(retraining, *team(), revoked).when(create(GROUP_OWNER)).then_rejected(codes.FORBIDDEN)


def test_an_update_changes_the_fields_given_and_repeats_the_rest() -> None:
    history = [*team(), policy_created("p-1", DRIFT, description="why")]
    update = command(UpdateRetrainingPolicy, policy_id="p-1", model_selection=ModelSelection.SAME_BLUEPRINT)
    given(retraining, *history).when(update).then(
        ev.RetrainingPolicyUpdated(
            deployment_id=D,
            policy_id="p-1",
            name="policy p-1",
            description="why",
            trigger=DRIFT,
            model_selection=ModelSelection.SAME_BLUEPRINT,
            model_action=ModelAction.MODEL_REPLACEMENT,
            modeling_strategy="same_as_champion",
        )
    )


def test_unknown_policies_are_named() -> None:
    for cmd in (
        command(UpdateRetrainingPolicy, policy_id="nope", name="x"),
        command(DeleteRetrainingPolicy, policy_id="nope"),
        command(RunRetrainingPolicy, policy_id="nope"),
    ):
        given(retraining, *team()).when(cmd).then_rejected(codes.POLICY_UNKNOWN, reason_contains="nope")


def test_a_schedule_that_is_never_due_is_refused() -> None:
    never = Trigger(type=TriggerType.SCHEDULE, schedule=Schedule(day_of_month=(31,), month=(4,)))
    given(retraining, *team()).when(create(trigger=never)).then_rejected(codes.SCHEDULE_NEVER_DUE)
    update = command(UpdateRetrainingPolicy, policy_id="p-1", trigger=never)
    given(retraining, *team(), policy_created("p-1")).when(update).then_rejected(codes.SCHEDULE_NEVER_DUE)


def test_deleted_erased_and_unknown_deployments_refuse() -> None:
    deleted = ev.DeploymentDeleted(deployment_id=D)
    given(retraining, *team(), deleted).when(create()).then_rejected(codes.DEPLOYMENT_DELETED)
    erased = ev.DeploymentErased(deployment_id=D)
    given(retraining, *team(), deleted, erased).when(create()).then_rejected(codes.DEPLOYMENT_ERASED)
    given(retraining).when(create()).then_rejected(codes.NOT_FOUND)


def test_a_user_role_from_a_group_counts() -> None:
    from shared.contract.events.values import PrincipalType

    history = [*team(), shared("analysts", Role.USER, PrincipalType.GROUP), policy_created("p-1")]
    analyst = Actor(user="ann", groups=("analysts",))
    decision = given(retraining, *history).when(command(RunRetrainingPolicy, analyst, policy_id="p-1")).decision
    assert not isinstance(decision, Rejection), decision


# ---------------------------------------------------------------- the commands themselves


def test_a_trigger_must_carry_a_schedule_exactly_when_it_is_one() -> None:
    with pytest.raises(pydantic.ValidationError, match="needs its schedule"):
        create(trigger=Trigger(type=TriggerType.SCHEDULE))
    with pytest.raises(pydantic.ValidationError, match="takes no schedule"):
        create(trigger=DRIFT.model_copy(update={"schedule": Schedule()}))
    assert create(trigger=NIGHTLY).trigger == NIGHTLY


@pytest.mark.parametrize(
    "fields",
    [{"name": ""}, {"name": "x" * 513}, {"description": "x" * 10_001}],
)
def test_strings_are_bounded(fields: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        create(**fields)
    with pytest.raises(pydantic.ValidationError):
        command(ChangeRetrainingSettings, retraining_user="a", dataset_id="x" * 1_025)


def test_an_update_must_change_something() -> None:
    with pytest.raises(pydantic.ValidationError, match="at least one"):
        command(UpdateRetrainingPolicy, policy_id="p-1")


def _created_by(cmd: CreateRetrainingPolicy) -> list[ev.RetrainingPolicyCreated]:
    return [
        ev.RetrainingPolicyCreated(
            deployment_id=D,
            policy_id=derived_id(cmd.command_id, "policy"),
            name=cmd.name,
            trigger=cmd.trigger,
            model_selection=cmd.model_selection,
            model_action=cmd.model_action,
            modeling_strategy=cmd.modeling_strategy,
        )
    ]
