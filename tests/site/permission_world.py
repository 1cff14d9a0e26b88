"""The objects the permission matrix points at: one of each kind, all on the credit model, plus a second
model (fraud) with its own integration key, and the cast with one user per role.

`build_world()` writes through the services where one call does it and through the ORM where a service
would do far more than the matrix needs (a drill would generate and ingest 1,000 rows). Nothing here runs
at import time, so the module imports without a database.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests.conftest import FEATURES, make_user, prediction

CREDIT = "credit-risk"
FRAUD = "fraud"
PRINCIPALS = ("anonymous", "viewer", "frontline", "analyst", "admin", "own_key", "other_key")
RULE = {
    "signal": "data_drift.share_drifted",
    "op": ">",
    "value": 0.2,
    "windows": 1,
    "severity": "critical",
    "actions": [{"type": "open_event"}],
}


@dataclass(frozen=True)
class World:
    """Ids and names the rows' URLs are built from, and the credentials of every principal."""

    users: dict[str, Any]  # role → User
    tokens: dict[str, str]  # role → personal API token; own_key / other_key → raw integration key
    slug: str
    version: str
    record: str
    feature: str
    run: int
    experiment: int
    policy: int
    event: int
    channel: int
    incident: int
    runbook: int
    runbook_version: int
    postmortem: int
    action_item: int
    retraining_request: int
    drill: int
    annotation: int
    improvement_task: int


def build_world() -> World:
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from drift.models import AnalysisRun, RunStatus
    from drift.services.experiment_definition import ExperimentSpec
    from drift.services.experiments import experiment_create
    from drift.services.ingestion import predictions_ingest
    from drift.services.keys import integration_key_create
    from drift.services.registry import model_create, version_create
    from governance.models import DriftEvent, Drill
    from governance.services.annotations import annotation_accept, annotation_create
    from governance.services.audit import Actor
    from governance.services.incidents import incident_open
    from governance.services.notifications import channel_create
    from governance.services.policies import policy_create
    from governance.services.postmortems import action_item_add, postmortem_create
    from governance.services.retraining import retraining_pipeline_set, retraining_request_create
    from governance.services.runbooks import runbook_create

    users = {
        "viewer": make_user("carol", "viewer"),
        "frontline": make_user("bob", "frontline"),
        "analyst": make_user("alice", "analyst"),
        "admin": make_user("dave", "admin"),
    }
    # Like the demo's admin: the Django admin and the metrics page are for staff.
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    alice, bob = users["analyst"], users["frontline"]

    credit = model_create(slug=CREDIT, name="Credit risk", task="binary_classification", positive_label="1")
    v1 = version_create(model=credit, version="v1", features=FEATURES, stage="production")
    version_create(model=credit, version="v2", features=FEATURES, stage="shadow")
    fraud = model_create(slug=FRAUD, name="Fraud", task="regression")
    version_create(model=fraud, version="v1", features=[{"name": "amount", "type": "numeric"}])
    tokens = {role: Token.objects.create(user=user).key for role, user in users.items()}
    tokens["own_key"] = integration_key_create(model=credit, name="scoring")[1]
    tokens["other_key"] = integration_key_create(model=fraud, name="fraud scoring")[1]

    now = timezone.now()
    stamp = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    predictions_ingest(model=credit, version="v1", records=[prediction(0, timestamp=stamp)])
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    run = AnalysisRun.objects.create(
        model=credit, version=v1, window_start=start, window_end=start + timedelta(days=1),
        status=RunStatus.FAILED, reason="made by the permission matrix",
    )  # fmt: skip
    experiment = experiment_create(
        spec=ExperimentSpec(
            model=credit,
            name="v2 against v1",
            control="v1",
            challengers=("v2",),
            primary_metric="accuracy",
            minimum_detectable_effect=0.02,
        ),
        actor=Actor.of(alice),
    )
    policy = policy_create(model=credit, name="Guard", rules=[RULE], by=alice)
    event = DriftEvent.objects.create(
        model=credit, signal=RULE["signal"], severity="critical", title="Inputs changed",
        detected_at=now, last_seen_at=now,
    )  # fmt: skip
    channel = channel_create(
        model=credit, name="ops", kind="email", target="ops@example.com", actor=Actor.of(alice)
    )
    runbook = runbook_create(slug="drift", title="Drift", body="Check the inputs.", by=alice, model=credit)
    incident = incident_open(model=credit, title="Inputs changed", severity="SEV3", actor=Actor.of(alice))
    postmortem = postmortem_create(incident=incident, by=alice)
    item = action_item_add(postmortem=postmortem, title="Add a feature check", by=alice)
    retraining_pipeline_set(model=credit, url="https://pipeline.example.com/retrain", by=alice)
    request = retraining_request_create(model=credit, reason="inputs changed", by=alice)
    drill = Drill.objects.create(
        model=credit, version=v1, scenario="covariate_shift", magnitude=0.5, rows=0, seed=1,
        started_by=alice, started_at=now, window_start=start, window_end=start + timedelta(hours=1),
    )  # fmt: skip
    flagged = annotation_create(model=credit, by=bob, category="other", note="Odd", record_id="p-0")
    accepted = annotation_create(model=credit, by=bob, category="other", note="Odder", record_id="p-0")
    task = annotation_accept(annotation=accepted, by=alice, event=event)
    assert request is not None
    return World(
        users=users,
        tokens=tokens,
        slug=CREDIT,
        version="v1",
        record="p-0",
        feature="income",
        run=run.pk,
        experiment=experiment.pk,
        policy=policy.pk,
        event=event.pk,
        channel=channel.pk,
        incident=incident.pk,
        runbook=runbook.pk,
        runbook_version=1,
        postmortem=postmortem.pk,
        action_item=item.pk,
        retraining_request=request.pk,
        drill=drill.pk,
        annotation=flagged.pk,
        improvement_task=task.pk,
    )
