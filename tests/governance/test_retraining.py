"""Retraining requests and the signed call to the model's pipeline; promoting and rolling back versions."""

import json
import time

import pytest

from drift.models import ModelVersion, StageChange
from drift.services.registry import version_create
from governance.models import AuditEntry, DriftEvent, Incident, ServingState
from governance.notifications import verify_signature
from governance.services.retraining import retraining_pipeline_set, retraining_request_create
from governance.tasks import DELIVERY_RETRIES
from tests.conftest import FEATURES
from tests.governance.conftest import assert_error, results

pytestmark = pytest.mark.usefixtures("clock")
SECRET = "whsec_" + "cGlwZWxpbmUtc2VjcmV0"  # base64 of "pipeline-secret"


@pytest.fixture
def event(share_policy, make_run, evaluate):
    evaluate(make_run(0, results(0.5)))
    return DriftEvent.objects.get()


@pytest.fixture
def request_(event, alice, credit_model):
    return retraining_request_create(model=credit_model, reason="income moved", by=alice, event=event)


def transition(api, who, pk, **body):
    return api(who).post(f"/api/v1/retraining-requests/{pk}/transition/", body, format="json")


def test_accepting_a_request_calls_the_pipeline_with_a_signed_webhook(
    api, receiver, request_, alice, credit_v1, django_capture_on_commit_callbacks
):
    hook = receiver(202)
    retraining_pipeline_set(model=credit_v1.model, url=hook.url, secret=SECRET, by=alice)

    with django_capture_on_commit_callbacks(execute=True):
        answer = transition(api, alice, request_.pk, to="accepted", note="go")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "accepted" and answer.json()["decided_by"] == "alice"
    call_made = api(alice).get(f"/api/v1/retraining-requests/{request_.pk}/").json()["pipeline"]
    assert call_made["call"] == "sent" and call_made["response_code"] == 202 and call_made["attempts"] == 1
    (call,) = hook.received
    assert verify_signature(SECRET, call["headers"], call["body"], now=int(time.time()))
    assert call["headers"]["webhook-id"] == f"rt_{request_.pk}"
    payload = json.loads(call["body"])
    assert payload["type"] == "retraining.accepted"
    data = payload["data"]
    assert (
        data["model"] == "credit-risk"
        and data["production_version"] == "v1"
        and data["reason"] == "income moved"
    )
    assert data["event"]["signal"] == "data_drift.share_drifted" and data["accepted_by"] == "alice"
    assert data["report_to"] == f"/api/v1/retraining-requests/{request_.pk}/transition/"


def test_the_pipeline_reports_progress_with_the_models_integration_key(
    api, request_, alice, credit_key, credit_v1
):
    transition(api, alice, request_.pk, to="accepted")
    v2 = version_create(model=credit_v1.model, version="v2", features=FEATURES)

    running = transition(api, None, request_.pk, to="running", external_id="airflow-81")
    assert running.status_code == 401  # no credentials at all
    running = api(key=credit_key).post(
        f"/api/v1/retraining-requests/{request_.pk}/transition/",
        {"to": "running", "external_id": "airflow-81"},
        format="json",
    )
    done = api(key=credit_key).post(
        f"/api/v1/retraining-requests/{request_.pk}/transition/",
        {"to": "completed", "version": "v2", "note": "AUC 0.81"},
        format="json",
    )

    assert running.json()["external_id"] == "airflow-81"
    assert (
        done.status_code == 200
        and done.json()["status"] == "completed"
        and done.json()["result_version"] == "v2"
    )
    request_.refresh_from_db()
    assert request_.result_version == v2 and request_.completed_at is not None
    entries = AuditEntry.objects.filter(action="retraining.transition").order_by("at", "id")
    actors = list(entries.values_list("actor", flat=True))
    assert actors == ["alice", "integration:scoring service", "integration:scoring service"]


def test_the_pipeline_may_not_decide_and_people_without_the_analyst_role_may_not_either(
    api, request_, credit_key, bob
):
    key = api(key=credit_key)
    url = f"/api/v1/retraining-requests/{request_.pk}/transition/"

    assert_error(key.post(url, {"to": "accepted"}, format="json"), 403)
    assert_error(transition(api, bob, request_.pk, to="accepted"), 403)


def test_rejecting_needs_a_note_and_closed_requests_stay_closed(api, request_, alice):
    assert_error(transition(api, alice, request_.pk, to="rejected"), 400, field="note")
    transition(api, alice, request_.pk, to="rejected", note="drift is seasonal")

    assert_error(transition(api, alice, request_.pk, to="accepted"), 400, field="to", says="none")


def test_an_unreachable_pipeline_is_retried_then_recorded_as_failed(
    receiver, request_, alice, credit_model, django_capture_on_commit_callbacks
):
    from governance.services.retraining import retraining_request_transition

    hook = receiver(503)
    retraining_pipeline_set(model=credit_model, url=hook.url, secret=SECRET, by=alice)

    with django_capture_on_commit_callbacks(execute=True):
        retraining_request_transition(request=request_, to="accepted", by=alice)

    request_.refresh_from_db()
    assert request_.call_status == "failed" and request_.call_attempts == 1 + DELIVERY_RETRIES
    assert (
        request_.call_response_code == 503 and len({r["headers"]["webhook-id"] for r in hook.received}) == 1
    )


def test_a_person_asks_for_retraining_once_per_open_event(api, alice, event):
    url = "/api/v1/models/credit-risk/retraining-requests/"

    made = api(alice).post(url, {"reason": "income moved", "event": event.pk}, format="json")

    assert (
        made.status_code == 201
        and made.json()["requested_by"] == "alice"
        and made.json()["event"] == event.pk
    )
    assert_error(api(alice).post(url, {"reason": "again", "event": event.pk}, format="json"), 409)
    assert_error(api(alice).post(url, {"reason": "x", "event": 999}, format="json"), 400, field="event")
    assert api(alice).get(f"/api/v1/events/{event.pk}/").json()["requests"][0]["kind"] == "retraining"


def test_the_pipeline_secret_is_generated_once_and_its_url_masked(api, alice, credit_model):
    url = "/api/v1/models/credit-risk/retraining-pipeline/"
    assert_error(api(alice).get(url), 404)

    made = api(alice).put(url, {"url": "https://ml.example.com/hooks/retrain?token=abc"}, format="json")

    assert made.status_code == 200 and made.json()["secret"].startswith("whsec_")
    assert made.json()["url"] == "https://ml.example.com/…"
    assert "secret" not in api(alice).get(url).json()
    entry = AuditEntry.objects.get(action="retraining_pipeline.set")
    assert "token" not in json.dumps(entry.after)


@pytest.fixture
def v2(credit_v1):
    return version_create(model=credit_v1.model, version="v2", features=FEATURES, stage="canary")


def change(api, who, version, what, **body):
    return api(who).post(f"/api/v1/models/credit-risk/versions/{version}/{what}/", body, format="json")


def test_promoting_a_version_archives_the_old_one_and_keeps_the_gate_unless_asked(api, alice, v2, event):
    assert ServingState.objects.get().mode == "human_review"

    answer = change(api, alice, "v2", "promote", reason="retrained on November")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["production"] == "v2" and answer.json()["previous"] == "v1"
    assert answer.json()["serving"]["mode"] == "human_review"  # the gate does not follow by itself
    assert list(ModelVersion.objects.order_by("version").values_list("version", "stage")) == [
        ("v1", "archived"),
        ("v2", "production"),
    ]
    entry = AuditEntry.objects.get(action="version.promote")
    assert (entry.actor, entry.before, entry.reason) == (
        "alice",
        {"production": "v1"},
        "retrained on November",
    )
    assert StageChange.objects.filter(
        version=v2, to_stage="production", reason__startswith="promote"
    ).exists()


def test_a_person_may_reset_the_gate_in_the_same_promotion(api, alice, v2, event, credit_model):
    from governance.services.audit import Actor
    from governance.services.incidents import incident_open

    incident = incident_open(
        model=credit_model, title="drift", severity="SEV3", actor=Actor.of(alice), events=[event]
    )

    answer = change(api, alice, "v2", "promote", reason="holdout AUC 0.81", serving_mode="normal")

    assert answer.json()["serving"]["mode"] == "normal"
    gate = AuditEntry.objects.filter(action="serving_mode.change").latest("id")
    assert gate.actor == "alice" and gate.after["mode"] == "normal" and "v2 promoted" in gate.reason
    texts = list(Incident.objects.get(pk=incident.pk).timeline.values_list("text", flat=True))
    assert any("version v2 promoted to production, replacing v1, by alice" in t for t in texts)


def test_rolling_back_restores_the_version_it_replaced(api, alice, v2):
    change(api, alice, "v2", "promote", reason="retrained")

    answer = change(api, alice, "v2", "rollback", reason="v2 rejects too many good loans")

    assert (
        answer.status_code == 200
        and answer.json()["production"] == "v1"
        and answer.json()["previous"] == "v2"
    )
    assert ModelVersion.objects.get(version="v2").stage == "archived"
    entry = AuditEntry.objects.get(action="version.rollback")
    assert entry.before == {"production": "v2"} and entry.after["production"] == "v1"


def test_what_cannot_be_promoted_or_rolled_back(api, alice, bob, v2):
    assert_error(change(api, alice, "v1", "rollback", reason="x"), 409, says="nothing to roll back to")
    assert_error(change(api, alice, "v2", "rollback", reason="x"), 409, says="not in production")
    assert_error(change(api, alice, "v1", "promote", reason="x"), 409, says="already in production")
    assert_error(change(api, alice, "v2", "promote"), 400, field="reason")
    assert_error(change(api, bob, "v2", "promote", reason="x"), 403)
    assert_error(change(api, alice, "v9", "promote", reason="x"), 404)


def test_promoting_the_version_a_retraining_produced_names_the_request(api, alice, credit_key, request_, v2):
    transition(api, alice, request_.pk, to="accepted")
    transition(api, alice, request_.pk, to="completed", version="v2")

    change(api, alice, "v2", "promote", reason="the retrained model")

    assert AuditEntry.objects.get(action="version.promote").after["retraining_request"] == request_.pk


def test_retraining_requests_policies_made_before_are_moved_by_the_migration(credit_model, event):
    import importlib

    from django.apps import apps
    from django.utils import timezone

    from governance.models import ActionRequest, RetrainingRequest

    migration = importlib.import_module("governance.migrations.0005_retraining")
    ActionRequest.objects.create(
        model=credit_model,
        kind="retraining",
        status="scheduled",
        event=event,
        note="use last month",
        requested_by="policy:1",
        created_at=timezone.now(),
    )

    migration.move_retraining_requests(apps, None)

    moved = RetrainingRequest.objects.get()
    assert (moved.status, moved.reason, moved.event, moved.requested_by) == (
        "accepted",
        "use last month",
        event,
        "policy:1",
    )
    assert not ActionRequest.objects.filter(kind="retraining").exists()
