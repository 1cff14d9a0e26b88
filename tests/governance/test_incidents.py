"""Incidents: opened by policies or people, roles and timeline, admin closes, escalation on a frozen clock."""

from datetime import timedelta
from unittest import mock

import pytest

from governance.models import AuditEntry, Delivery, DriftEvent, Incident, TimelineEntry
from governance.services.audit import Actor
from governance.services.events import drift_event_transition
from governance.services.gate import serving_mode_set
from governance.services.incidents import escalation_path_set, incident_open, incidents_escalate
from governance.services.notifications import channel_create
from governance.services.policies import policy_create
from tests.governance.conftest import NOW, SHARE_RULE, assert_error, results

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def incident(credit_model, alice, make_run, evaluate):
    actions = [
        {"type": "open_event"},
        {"type": "open_incident", "severity": "SEV2"},
        {"type": "serving_mode", "mode": "fallback"},
    ]
    policy_create(model=credit_model, name="Page", rules=[{**SHARE_RULE, "actions": actions}], by=alice)
    evaluate(make_run(0, results(0.5)))
    return Incident.objects.get()


def kinds(incident):
    return list(incident.timeline.values_list("kind", flat=True))


def test_a_policy_opens_an_incident_linked_to_its_event_and_its_mitigation_lands_on_the_timeline(incident):
    event = DriftEvent.objects.get()

    assert (
        incident.severity == "SEV2"
        and incident.status == "triage"
        and incident.opened_by.startswith("policy:")
    )
    assert list(incident.events.all()) == [event]
    assert kinds(incident) == ["opened", "mitigation", "mitigation"]
    texts = list(incident.timeline.values_list("text", flat=True))
    assert "now serves in fallback mode" in texts[1]
    assert (
        texts[2].startswith(f"Event #{event.pk}: opened incident") and "serving mode → fallback" in texts[2]
    )


def test_event_transitions_feed_the_timeline(incident, alice):
    drift_event_transition(event=DriftEvent.objects.get(), to="acknowledged", by=alice, note="looking")

    assert incident.timeline.last().kind == "event" and "acknowledged" in incident.timeline.last().text


def test_a_person_relaxing_the_gate_is_a_mitigation_on_the_timeline(incident, alice):
    serving_mode_set(model=incident.model, mode="normal", reason="rolled back to v0", by=alice)

    assert "normal" in incident.timeline.last().text and incident.timeline.last().actor == "alice"


def test_an_analyst_runs_the_incident_and_only_an_admin_closes_it(api, alice, dave, bob, incident):
    url = f"/api/v1/incidents/{incident.pk}/"
    roles = {"commander": dave.pk, "scribe": alice.pk, "sme": bob.pk, "rollback_plan": "pin v0 in the router"}

    assert api(alice).patch(url, roles, format="json").status_code == 200
    assert api(alice).post(f"{url}transition/", {"to": "active"}, format="json").status_code == 200
    assert api(alice).post(f"{url}transition/", {"to": "monitoring"}, format="json").status_code == 200
    assert_error(api(alice).post(f"{url}transition/", {"to": "resolved"}, format="json"), 403)
    closed = api(dave).post(
        f"{url}transition/", {"to": "resolved", "note": "stable for 2 days"}, format="json"
    )

    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["commander"], body["scribe"], body["sme"]) == (
        "resolved",
        "dave",
        "alice",
        "bob",
    )
    assert body["rollback_plan"] == "pin v0 in the router" and body["resolved_at"] is not None
    assert [e["kind"] for e in body["timeline"]][-4:] == ["roles", "status", "status", "status"]


def test_an_illegal_incident_transition_is_a_400(api, dave, incident):
    url = f"/api/v1/incidents/{incident.pk}/transition/"

    assert_error(
        api(dave).post(url, {"to": "monitoring"}, format="json"), 400, field="to", says="allowed from triage"
    )


def test_frontline_annotates_the_timeline_but_cannot_move_it(api, bob, incident):
    url = f"/api/v1/incidents/{incident.pk}/"

    note = api(bob).post(
        f"{url}timeline/", {"text": "call centre sees odd declines in the north"}, format="json"
    )

    assert note.status_code == 201 and note.json()["kind"] == "note" and note.json()["actor"] == "bob"
    assert_error(api(bob).post(f"{url}transition/", {"to": "active"}, format="json"), 403)
    assert_error(api(bob).patch(url, {"title": "x"}, format="json"), 403)


def test_viewers_read_incidents_with_filters(api, carol, incident):
    body = api(carol).get("/api/v1/incidents/?model=credit-risk&status=triage&severity=SEV2").json()

    assert [i["id"] for i in body["results"]] == [incident.pk]
    assert_error(api(carol).get("/api/v1/incidents/?severity=SEV9"), 400, field="severity")


def test_an_analyst_opens_an_incident_by_hand_linking_events(api, alice, incident):
    event = DriftEvent.objects.get()
    body = {
        "model": "credit-risk",
        "title": "Manual review backlog",
        "severity": "SEV3",
        "events": [event.pk],
        "rollback_plan": "route to rules engine",
    }

    answer = api(alice).post("/api/v1/incidents/", body, format="json")

    assert answer.status_code == 201, answer.json()
    assert answer.json()["events"] == [event.pk] and answer.json()["opened_by"] == "alice"
    bad = {**body, "events": [999]}
    assert_error(api(alice).post("/api/v1/incidents/", bad, format="json"), 400, field="events")


def test_a_role_must_be_a_person_with_a_role(api, alice, incident, django_user_model):
    nobody = django_user_model.objects.create_user("nobody")

    answer = api(alice).patch(f"/api/v1/incidents/{incident.pk}/", {"commander": nobody.pk}, format="json")

    assert_error(answer, 400, field="commander")


@pytest.fixture
def path(credit_model, alice, dave):
    first = channel_create(
        model=credit_model,
        name="on-call",
        kind="email",
        target="oncall@example.com",
        actor=Actor.of(alice),
        min_severity="critical",
    )
    second = channel_create(
        model=credit_model,
        name="head of risk",
        kind="email",
        target="head@example.com",
        actor=Actor.of(alice),
        min_severity="critical",
    )
    return escalation_path_set(
        model=credit_model,
        steps=[{"channel": first.pk, "after_minutes": 15}, {"channel": second.pk, "after_minutes": 60}],
        by=dave,
    )


def escalate_at(minutes, capture):
    later = NOW + timedelta(minutes=minutes)
    with mock.patch("django.utils.timezone.now", return_value=later), capture(execute=True):
        return incidents_escalate()


def test_an_unacknowledged_incident_escalates_level_by_level(
    credit_model, path, django_capture_on_commit_callbacks
):
    incident = incident_open(
        model=credit_model, title="Scores stuck", severity="SEV3", actor=Actor.system("t")
    )

    assert escalate_at(14, django_capture_on_commit_callbacks) == 0
    assert escalate_at(15, django_capture_on_commit_callbacks) == 1
    assert escalate_at(30, django_capture_on_commit_callbacks) == 0
    assert escalate_at(61, django_capture_on_commit_callbacks) == 1

    incident.refresh_from_db()
    assert incident.escalation_level == 2
    texts = list(
        TimelineEntry.objects.filter(incident=incident, kind="escalation").values_list("text", flat=True)
    )
    assert texts == [
        "Unacknowledged after 15 min: escalated to level 1 (on-call).",
        "Unacknowledged after 61 min: escalated to level 2 (head of risk).",
    ]
    topics = sorted(
        Delivery.objects.filter(incident=incident, topic__contains="escalated").values_list(
            "channel__name", "topic"
        )
    )
    assert topics == [
        ("head of risk", f"incident:{incident.pk}:escalated:2"),
        ("on-call", f"incident:{incident.pk}:escalated:1"),
    ]
    assert (
        AuditEntry.objects.filter(action="incident.escalate", actor="system:incidents_escalate").count() == 2
    )


def test_a_late_run_escalates_straight_to_the_level_due(
    credit_model, path, django_capture_on_commit_callbacks
):
    incident = incident_open(
        model=credit_model, title="Scores stuck", severity="SEV3", actor=Actor.system("t")
    )

    assert escalate_at(90, django_capture_on_commit_callbacks) == 1

    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert Delivery.objects.filter(incident=incident, topic__contains="escalated").count() == 2


def test_an_acknowledged_incident_does_not_escalate(
    api, alice, credit_model, path, django_capture_on_commit_callbacks
):
    incident = incident_open(
        model=credit_model, title="Scores stuck", severity="SEV3", actor=Actor.system("t")
    )
    api(alice).post(f"/api/v1/incidents/{incident.pk}/transition/", {"to": "active"}, format="json")

    assert escalate_at(120, django_capture_on_commit_callbacks) == 0


def test_only_admins_set_the_escalation_path_and_it_must_increase(api, alice, dave, credit_model, path):
    url = "/api/v1/models/credit-risk/escalation/"
    steps = [
        {"channel": path[0].channel_id, "after_minutes": 30},
        {"channel": path[1].channel_id, "after_minutes": 10},
    ]

    assert_error(api(alice).put(url, {"steps": steps}, format="json"), 403)
    assert_error(api(dave).put(url, {"steps": steps}, format="json"), 400, field="steps[1].after_minutes")
    assert [s["after_minutes"] for s in api(alice).get(url).json()] == [15, 60]


def test_the_escalation_task_runs_the_service(credit_model, path, django_capture_on_commit_callbacks):
    from governance.tasks import incidents_escalate as task

    incident_open(model=credit_model, title="Scores stuck", severity="SEV1", actor=Actor.system("t"))
    with mock.patch("django.utils.timezone.now", return_value=NOW + timedelta(minutes=20)):
        assert task.delay().get() == 1
