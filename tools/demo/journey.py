"""The journey the demo plays, step by step: what an operator and the upstream systems do, and what
each service answers. Each step waits for its outcome (bounded) and says where to look."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.trainer import demo_data
from shared.contract.envelope import Envelope, from_record
from shared.messaging.reader import read_batches
from tools.cli.common import console
from tools.demo import fleet
from tools.demo.show import Narrator, audit_table, checks_table, inventory_table
from tools.demo.stack import DemoFailed, Stack

TRAINING_TIMEOUT_S = 300
"""The reference trainer fits a few scikit-learn models on 3,000 rows: seconds on an idle machine."""


class Journey:
    def __init__(self, stack: Stack, suffix: str, dataset: Path) -> None:
        self.stack = stack
        self.ids = {d.base_id: d.base_id + suffix for d in fleet.FLEET}
        self.dataset = dataset
        self.tell = Narrator()

    def play(self) -> None:
        self.register()
        self.monitor()
        policy_id = self.retraining_policy()
        run = self.drift_decline(policy_id)
        self.replacement(run)
        self.change_request()
        self.afterwards()

    # 1-2 ----------------------------------------------------------------------------------------------

    def register(self) -> None:
        s, tell = self.stack, self.tell
        tell.step("Deployments: three registered by an operator, two announced by a serving platform")
        for deployment in (d for d in fleet.FLEET if d.registered):
            deployment_id = self.ids[deployment.base_id]
            body = fleet.registration(deployment, deployment_id)
            s.command("actions", "POST", "/deployments", body, user="alice", step=f"register.{deployment.base_id}")
            tell.say(f"{deployment_id}: registered by alice ({deployment.importance.value}, {deployment.package.name})")
        tell.look(f"POST {s.urls['actions']}/deployments   (API: {s.urls['actions']}/docs)")
        announced = [d for d in fleet.FLEET if not d.registered]
        registry = [("package/churn-model-v1", fleet.churn_package(), datetime.now(UTC))]
        asyncio.run(s.publish("demo/model-registry", registry, actor="registry"))
        items = [
            (f"created/{d.base_id}", fleet.announcement(d, self.ids[d.base_id]), datetime.now(UTC)) for d in announced
        ]
        asyncio.run(s.publish("demo/serving-platform", items, actor="alice"))
        for deployment in announced:
            tell.say(
                f"{self.ids[deployment.base_id]}: DeploymentCreated published on {s.settings.topics.deployment_events}"
            )
        for deployment_id in self.ids.values():

            def shown(i: str = deployment_id) -> Any:
                return s.found("inventory", f"/deployments/{i}")

            s.wait(f"the inventory to show {deployment_id}", shown, 60)
        tell.say(f"the inventory shows all five; the registry published {fleet.CHURN_MODEL.id} with its features")

    def monitor(self) -> None:
        s, tell = self.stack, self.tell
        tell.step("Monitoring: a week of predictions and the first health reports")
        items = fleet.monitoring(self.ids, datetime.now(UTC))
        asyncio.run(s.publish("demo/monitoring", items, actor="monitoring"))
        expected: dict[str, int] = {}
        for _, event, _ in items:
            if event.type_name == "PredictionsRecorded":
                deployment_id = event.deployment_id  # type: ignore[attr-defined]
                expected[deployment_id] = expected.get(deployment_id, 0) + event.count  # type: ignore[attr-defined]
        for deployment_id, total in expected.items():

            def counted(i: str = deployment_id, total: int = total) -> bool:
                return bool(s.get("inventory", f"/deployments/{i}")["predictions"]["total"] == total)

            s.wait(f"the inventory to count {total} predictions of {deployment_id}", counted, 60)
        tell.say(
            f"{len(items)} events on {s.settings.topics.monitoring_events}: {sum(expected.values()):,} predictions"
        )
        tell.look(f"{s.urls['inventory']}/   (the web page), {s.urls['inventory']}/deployments/summary")

    # 3-4 ----------------------------------------------------------------------------------------------

    def retraining_policy(self) -> str:
        s, tell = self.stack, self.tell
        deployment_id = self.ids[fleet.RETRAINED.base_id]
        tell.step(f"Retraining: settings and a policy on {deployment_id}")
        demo_data.write(self.dataset)
        path = f"/deployments/{deployment_id}/retraining-settings"
        s.wait(f"the retraining service to know {deployment_id}", lambda: s.found("retraining", path, "alice"), 60)
        body = {"retraining_user": "alice", "dataset_id": str(self.dataset)}
        s.command("retraining", "PUT", path, body, user="alice", step="retraining-settings")
        tell.say(f"settings: alice retrains on {self.dataset} (3,000 rows, python -m services.trainer.demo_data)")
        policy = {
            "name": "Refit on drift",
            "trigger": {"type": "data_drift_decline"},
            "model_selection": "autopilot_recommended",
            "model_action": "model_replacement",
        }
        answer = s.command(
            "retraining",
            "POST",
            f"/deployments/{deployment_id}/retraining-policies",
            policy,
            user="alice",
            step="policy",
        )
        policy_id = str(answer["policy_id"])
        tell.say(f"policy {policy_id}: when drift declines, train with autopilot and replace the model")
        tell.look(f"{s.urls['retraining']}/deployments/{deployment_id}/retraining-policies")
        return policy_id

    def drift_decline(self, policy_id: str) -> dict[str, Any]:
        s, tell = self.stack, self.tell
        deployment_id = self.ids[fleet.RETRAINED.base_id]
        tell.step(f"Drift declines on {deployment_id}: the policy fires, the reference trainer trains")
        decline = [("drift-decline", fleet.drift_decline(deployment_id), datetime.now(UTC))]
        asyncio.run(s.publish("demo/monitoring", decline, actor="monitoring"))
        tell.say("DriftDetected passing -> warning (PSI 0.31 on monthly_charges) published on the monitoring topic")
        runs_path = f"/deployments/{deployment_id}/retraining-runs"

        def started() -> dict[str, Any] | None:
            runs = s.get("retraining", runs_path, "alice")["runs"]
            return next((r for r in runs if r["policy_id"] == policy_id), None)

        run = s.wait(f"the policy to start a run on {deployment_id}", started, 60)
        tell.say(f"run {run['id']} started: trigger {run['trigger']}, cause {run['cause']}")
        tell.say(f"the trainer fits scikit-learn models on the dataset (its log: {s.log_of('trainer')})")

        def finished(run_id: str = run["id"]) -> dict[str, Any] | None:
            current: dict[str, Any] = s.get("retraining", f"{runs_path}/{run_id}", "alice")
            return current if current["status"] != "running" else None

        run = s.wait(f"run {run['id']} to finish (see {s.log_of('trainer')})", finished, TRAINING_TIMEOUT_S)
        if run["status"] != "succeeded":
            raise DemoFailed(f"run {run['id']} {run['status']}: {run.get('error_code')} {run.get('error')}")
        trail = asyncio.run(self.trail(deployment_id))
        steps = [
            e.data["step"] for e in trail if e.type == "RetrainingRunStepChanged" and e.data["run_id"] == run["id"]
        ]
        tell.say(f"steps: {' -> '.join(steps)}")
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in sorted(run["metrics"].items())[:4])
        tell.say(f"run succeeded in {run['duration_s']:.0f}s: new package {run['model_package_id']} ({metrics})")
        tell.look(f"{s.urls['retraining']}{runs_path}/{run['id']}")
        return run

    # 5-6 ----------------------------------------------------------------------------------------------

    def replacement(self, run: dict[str, Any]) -> None:
        s, tell = self.stack, self.tell
        deployment_id, package_id = self.ids[fleet.RETRAINED.base_id], run["model_package_id"]
        tell.step(f"Replacement: {package_id} replaces {fleet.CHURN_MODEL.id} after the checks")
        path = f"/deployments/{deployment_id}/model-history"

        def replaced() -> dict[str, Any] | None:
            history = s.get("replacement", path, "alice")["history"]
            return next((h for h in history if h["model_package"]["id"] == package_id), None)

        entry = s.wait(f"the replacement service to record {package_id}", replaced, 60)
        console.print(checks_table(entry["checks"]))
        tell.say(
            f"outcome {entry['validation_status']}; reason {entry['reason']}; by {entry['actor']} (the retraining user)"
        )

        def serves() -> bool:
            view = s.get("inventory", f"/deployments/{deployment_id}")
            return bool((view["model_package"] or {}).get("id") == package_id)

        s.wait(f"the inventory to show {deployment_id} serving {package_id}", serves, 60)
        tell.say(f"the inventory shows {deployment_id} serving {package_id}")
        tell.look(f"{s.urls['replacement']}{path}   (API: {s.urls['replacement']}/docs)")

    def change_request(self) -> None:
        s, tell = self.stack, self.tell
        deployment_id = self.ids[fleet.GUARDED.base_id]
        tell.step(f"A change request: alice deactivates {deployment_id} (CRITICAL), bob approves")
        answer = s.command(
            "actions", "POST", f"/deployments/{deployment_id}/deactivate",
            {"reason": "replaced by the new fraud pipeline"}, user="alice", step="deactivate",
        )  # fmt: skip
        request_id = answer.get("change_request_id")
        if not request_id:
            raise DemoFailed(f"deactivating the CRITICAL {deployment_id} did not open a change request: {answer}")
        tell.say(f"change request {request_id} opened: the deactivation waits for another OWNER or an admin")
        still = s.get("inventory", f"/deployments/{deployment_id}")["status"]
        tell.say(f"meanwhile {deployment_id} stays {still}")
        s.command(
            "actions", "POST", f"/deployments/{deployment_id}/change-requests/{request_id}/approve",
            {"comment": "agreed with the risk team"}, user="bob", step="approve",
        )  # fmt: skip
        tell.say(f"bob approved {request_id}; the held deactivation ran")

        def inactive() -> bool:
            return bool(s.get("inventory", f"/deployments/{deployment_id}")["status"] == "inactive")

        s.wait(f"the inventory to show {deployment_id} inactive", inactive, 60)
        tell.say(f"the inventory shows {deployment_id} inactive")
        tell.look(f"{s.urls['actions']}/deployments/{deployment_id}/change-requests")

    # 7-8 ----------------------------------------------------------------------------------------------

    def afterwards(self) -> None:
        s, tell = self.stack, self.tell
        tell.step("Afterwards: the inventory and an audit trail")
        views = [s.get("inventory", f"/deployments/{i}") for i in self.ids.values()]
        console.print(inventory_table(views))
        deployment_id = self.ids[fleet.RETRAINED.base_id]
        entries = s.get("inventory", f"/deployments/{deployment_id}/audit")
        console.print(audit_table(deployment_id, entries))
        tell.look(f"{s.urls['inventory']}/#/deployments/{deployment_id}   (the same trail on the web page)")
        tell.look(f".venv/bin/lifecycle history {deployment_id}   (every event and command of it, from the log)")

    async def trail(self, deployment_id: str) -> list[Envelope]:
        """The deployment's events from the log (for the run's steps), oldest first: the deployment topic and
        the health reports on the monitoring topic (not the prediction counts). One deployment's events share
        a partition of each topic, so sorting by time only interleaves the two topics."""
        found: list[Envelope] = []
        topics = self.stack.settings.topics
        wanted = [topics.deployment_events, topics.monitoring_events]
        async for batch in read_batches(self.stack.settings.kafka.bootstrap_servers, wanted):
            for record in batch:
                if record.key == deployment_id.encode():
                    envelope = from_record(record.value, list(record.headers))
                    if envelope.type != "PredictionsRecorded":
                        found.append(envelope)
        found.sort(key=lambda e: e.time)
        return found
