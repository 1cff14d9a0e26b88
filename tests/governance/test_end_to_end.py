"""End to end through a real Celery worker and broker (CI: PostgreSQL + Redis): telemetry in over the
API → the scheduled analysis (the dispatcher task, through the broker) → a policy → a drift event →
the gate says human_review → a signed webhook reaches a receiver → a person acknowledges and brings
the gate back with a reason over the API → normal. The audit trail shows each step, in order.

Skipped unless DATABASE_URL is PostgreSQL and CELERY_BROKER_URL is set. Data is committed
(transaction=True) so the worker, a subprocess on the same test database, can see it.
"""

import json
import os
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from drift.engine.windows import floor_hour
from drift.models import AnalysisRun, MonitoredModel, RunStatus
from drift.scenarios import make_scenario
from drift.services.keys import integration_key_create
from governance.models import AuditEntry, Delivery, DriftEvent
from governance.notifications import verify_signature
from tests.conftest import token_client
from tests.drift.analyses_support import features, reference_rows, schema
from tests.governance.broker import wait_for, worker  # noqa: F401  (fixture)

# Decided at collection: a test skipped later would still set up and flush the transactional database,
# and a flush removes the roles' groups that later tests read.
NEEDS = os.environ.get("CELERY_BROKER_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.skipif(
        not NEEDS, reason="needs CELERY_BROKER_URL and PostgreSQL (DATABASE_URL=postgres://...)"
    ),
    pytest.mark.django_db(transaction=True),
]
SLUG = "e2e-credit"
RULE = {
    "signal": "data_drift.share_drifted",
    "op": ">",
    "value": 0.1,
    "severity": "critical",
    "actions": [{"type": "serving_mode", "mode": "human_review"}, {"type": "open_event"}],
}


def analyst(name: str) -> User:
    # The group is made here: a transactional test's flush may have removed the one migrations made.
    user = User.objects.create_user(username=name, password=f"{name}-pass-123")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    return user


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json()


def model_with_policy_and_channel(api: Any, sc: Any, hook_url: str) -> str:
    """A production model analysed hourly, with a reference, the drift policy and a webhook channel;
    returns the channel's signing secret (shown once, when it is created)."""
    model = {"slug": SLUG, "name": "E2E credit", "task": "binary_classification", "positive_label": "1"}
    ok(api.post("/api/v1/models/", model, format="json"), 201)
    ok(api.patch(f"/api/v1/models/{SLUG}/schedule/", {"analysis_window": "hourly"}, format="json"))
    version = {"version": "v1", "stage": "production", "schema": {"features": schema(sc)}}
    ok(api.post(f"/api/v1/models/{SLUG}/versions/", version, format="json"), 201)
    rows = [
        {**r, "prediction": str(r["prediction"]), "label": str(r["label"])}
        for r in reference_rows(sc.reference)
    ]
    ok(api.post(f"/api/v1/models/{SLUG}/versions/v1/reference/", {"records": rows}, format="json"), 201)
    ok(
        api.post(f"/api/v1/models/{SLUG}/policies/", {"name": "Drift guard", "rules": [RULE]}, format="json"),
        201,
    )
    channel = {"name": "ml-platform", "kind": "webhook", "target": hook_url, "min_severity": "info"}
    return ok(api.post(f"/api/v1/models/{SLUG}/channels/", channel, format="json"), 201)["secret"]


def predictions(sc: Any, hour: Any) -> list[dict[str, Any]]:
    step = timedelta(hours=1) / sc.current.n
    return [
        {
            "id": f"e2e-{i}",
            "timestamp": (hour + i * step).isoformat().replace("+00:00", "Z"),
            "features": features(sc.current, i),
            "prediction": str(int(sc.current.prediction[i])),
            "score": float(sc.current.score[i]),
        }
        for i in range(sc.current.n)
    ]


def webhook_type(received: dict[str, Any]) -> str:
    return json.loads(received["body"]).get("type", "")


def test_drift_reaches_the_gate_and_a_person_brings_it_back(worker, receiver):  # noqa: F811
    from drift.tasks import analyses_dispatch

    api, hook = token_client(analyst("alice")), receiver(200)
    sc = make_scenario("mean_shift", n_reference=2_000, n_current=1_000, magnitude=1.0, seed=7)
    secret = model_with_policy_and_channel(api, sc, hook.url)
    key = integration_key_create(model=MonitoredModel.objects.get(slug=SLUG), name="scoring")[1]
    hour = floor_hour(timezone.now() - timedelta(minutes=75))  # complete, grace period passed

    # When the scoring service sends a shifted hour of predictions and the scheduler's dispatcher runs
    batch = {"version": "v1", "records": predictions(sc, hour)}
    sent = ok(token_client(key=key).post(f"/api/v1/models/{SLUG}/predictions/", batch, format="json"))
    assert sent["accepted"] == 1_000 and not sent["rejected"]
    analyses_dispatch.delay()

    # Then the worker analyses the hour, the policy opens an event and the gate says human_review
    def finished() -> AnalysisRun | None:
        return AnalysisRun.objects.filter(model__slug=SLUG, status=RunStatus.DONE).first()

    run = wait_for(finished, "the dispatched analysis to finish", log=worker)
    assert (run.window_start, run.window_end, run.rows) == (hour, hour + timedelta(hours=1), 1_000)
    event = wait_for(lambda: DriftEvent.objects.filter(model__slug=SLUG).first(), "an event", log=worker)

    def gate(mode: str) -> dict[str, Any] | None:
        decision = ok(api.get(f"/api/v1/models/{SLUG}/serving-decision/"))
        return decision if decision["mode"] == mode else None

    decision = wait_for(lambda: gate("human_review"), "the gate to say human_review", log=worker)
    assert decision["events"][0]["id"] == event.pk and "Drift guard" in decision["reason"]

    # and a signed webhook of the event reaches the receiver
    def delivered(kind: str) -> dict[str, Any] | None:
        return next((r for r in hook.received if webhook_type(r) == kind), None)

    call = wait_for(lambda: delivered("event.detected"), "the event's signed webhook", log=worker)
    assert verify_signature(secret, call["headers"], call["body"], now=int(time.time()))
    wait_for(lambda: delivered("serving_mode.human_review"), "the gate's webhook", log=worker)

    # When a person acknowledges the event and brings the gate back, with a reason
    ack = {"to": "acknowledged", "note": "looking"}
    ok(api.post(f"/api/v1/events/{event.pk}/transition/", ack, format="json"))
    reason = "num_0 moved with an upstream unit change, fixed at the source"
    back = ok(
        api.post(f"/api/v1/models/{SLUG}/serving-mode/", {"mode": "normal", "reason": reason}, format="json")
    )

    # Then the gate is normal, that is announced too, and the audit trail tells every step in order
    assert (back["mode"], back["reason"], back["events"]) == ("normal", reason, [])
    wait_for(lambda: delivered("serving_mode.normal"), "the webhook of the gate going back", log=worker)
    assert not Delivery.objects.filter(channel__model__slug=SLUG, status="failed").exists()
    entries = AuditEntry.objects.filter(model__slug=SLUG).order_by("at", "id")
    trail = [
        (e.action, e.actor.split(":")[0], (e.after or {}).get("mode") or (e.after or {}).get("status"))
        for e in entries
    ]
    assert trail == [
        ("policy.create", "alice", None),
        ("channel.create", "alice", None),
        ("drift_event.open", "policy", "detected"),
        ("drift_event.snapshot", "policy", None),
        ("serving_mode.change", "policy", "human_review"),
        ("drift_event.action", "policy", "detected"),
        ("drift_event.transition", "alice", "acknowledged"),
        ("serving_mode.change", "alice", "normal"),
    ]
