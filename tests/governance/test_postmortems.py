"""Postmortems: facts computed from the record, draft → in review → published (admins), action items."""

from datetime import timedelta
from unittest import mock

import pytest

from drift.models import ProfileFragment, ReferenceDataset, ReferenceProfile
from governance.models import AuditEntry, DriftEvent, Incident, Postmortem
from governance.services.events import drift_event_transition
from governance.services.incidents import incident_transition
from governance.services.policies import policy_create
from governance.services.postmortems import postmortem_create
from tests.governance.conftest import FIRST_DAY, NOW, SHARE_RULE, assert_error, results

URL = "/api/v1/postmortems/"
# tp 300, fp 100, tn 500, fn 100 at the credit model's values (tp 0, fp -500, tn 120, fn -80): 2.0 each.
REFERENCE_CONFUSION = {"1": {"1": 300, "0": 100}, "0": {"0": 500, "1": 100}}
REALISED = {"status": "ok", "coverage": 0.9, "labelled": 900, "business": {"per_prediction": -10.0}}
ESTIMATED = {"status": "ok", "expected_confusion": {"tp": 100, "fp": 400, "tn": 400, "fn": 100}}


@pytest.fixture
def at():
    """A clock the test moves: `at(minutes=10)` sets it to NOW + 10 minutes."""
    now = [NOW]
    with mock.patch("django.utils.timezone.now", side_effect=lambda: now[0]):

        def move(**delta):
            now[0] = NOW + timedelta(**delta)
            return now[0]

        yield move


@pytest.fixture
def reference(credit_v1):
    dataset = ReferenceDataset.objects.create(
        version=credit_v1, row_count=1000, source="json", digest="ab" * 32
    )
    labelled = {"confusion": REFERENCE_CONFUSION, "positive_label": "1"}
    ReferenceProfile.objects.create(
        reference=dataset, reference_digest="ab" * 8, sketch={}, labelled=labelled
    )
    return dataset


@pytest.fixture
def incident(at, credit_model, credit_v1, reference, alice, dave, make_run, evaluate):
    """Detected at NOW on two breaching days (Nov 18, 19), acknowledged 10 min later, resolved 2 h later."""
    actions = [
        {"type": "open_event"},
        {"type": "serving_mode", "mode": "human_review"},
        {"type": "open_incident", "severity": "SEV2"},
    ]
    policy_create(model=credit_model, name="Guard", rules=[{**SHARE_RULE, "actions": actions}], by=alice)
    evaluate(make_run(17, results(0.5, estimated_performance=ESTIMATED)))
    evaluate(make_run(18, results(0.5, performance=REALISED)))
    for hour, rows in (
        (FIRST_DAY + timedelta(days=16, hours=23), 999),
        (FIRST_DAY + timedelta(days=17, hours=5), 700),
    ):
        ProfileFragment.objects.create(version=credit_v1, hour=hour, rows=rows, sketch={})
    ProfileFragment.objects.create(
        version=credit_v1, hour=FIRST_DAY + timedelta(days=18, hours=10), rows=300, sketch={}
    )
    at(minutes=10)
    drift_event_transition(event=DriftEvent.objects.get(), to="acknowledged", by=alice, note="on it")
    at(hours=2)
    found = Incident.objects.get()
    incident_transition(incident=found, to="resolved", by=dave, note="retrained")
    at(hours=3)
    return Incident.objects.get()


def test_the_facts_state_impact_detection_times_and_ml_details_from_the_record(incident, alice):
    pm = postmortem_create(incident=incident, by=alice)

    facts = pm.facts
    impact = facts["impact"]
    assert impact["predictions_affected"] == 1000 and impact["analyses"] == 2
    assert impact["window"]["start"] == (FIRST_DAY + timedelta(days=17)).isoformat()
    business = impact["business"]
    # Nov 18 estimated at -160 per prediction, Nov 19 realised at -10, against the reference's 2.0.
    assert business["reference_per_prediction"] == 2.0 and business["currency"] == "EUR"
    assert [(w["basis"], w["lost"]) for w in business["windows"]] == [
        ("estimated", 162_000.0),
        ("realised", 12_000.0),
    ]
    assert business["total"] == 174_000.0
    detection = facts["detection"]
    assert detection["time_to_detect"] == int((NOW - (FIRST_DAY + timedelta(days=17))).total_seconds())
    assert detection["time_to_acknowledge"] == 600
    assert detection["time_to_mitigate"] == 0  # the policy moved the gate when it detected
    assert detection["time_to_resolve"] == 7200
    assert detection["detected_by"] == "policy 'Guard'"
    assert detection["mitigations"][0]["what"] == "serving mode normal → human_review"
    ml = facts["ml"]
    assert ml["versions"] == ["v1"] and ml["reference_digests"] == ["ref0"]
    assert (
        ml["drift_values"][0]["signal"] == "data_drift.share_drifted"
        and ml["drift_values"][0]["observed"] == 0.5
    )
    assert ml["drift_values"][0]["threshold"] == 0.2 and ml["drift_values"][0]["from_snapshot"]
    assert [k for k in (t["kind"] for t in facts["timeline"])][:2] == ["opened", "mitigation"]
    assert facts["timeline"][-1]["kind"] == "status"


def test_an_event_moved_to_mitigated_counts_when_no_automation_mitigated(
    at, credit_model, alice, make_run, evaluate
):
    rule = {**SHARE_RULE, "actions": [{"type": "open_event"}, {"type": "open_incident", "severity": "SEV3"}]}
    policy_create(model=credit_model, name="Guard", rules=[rule], by=alice)
    evaluate(make_run(18, results(0.5)))
    event = DriftEvent.objects.get()
    for minutes, to in ((5, "acknowledged"), (20, "investigating"), (45, "mitigated")):
        at(minutes=minutes)
        drift_event_transition(event=event, to=to, by=alice, note="rolled back the feature")

    pm = postmortem_create(incident=Incident.objects.get(), by=alice)

    assert pm.facts["detection"]["time_to_mitigate"] == 45 * 60
    assert pm.facts["detection"]["time_to_resolve"] is None
    assert pm.facts["impact"]["business"]["total"] is None  # no reference labels to value against


def write(api, user, pk, **fields):
    return api(user).patch(f"{URL}{pk}/", fields, format="json")


def move(api, user, pk, to):
    return api(user).post(f"{URL}{pk}/transition/", {"to": to, "note": "ready"}, format="json")


def test_an_analyst_drafts_submits_and_an_admin_publishes(api, incident, alice, dave, carol):
    created = api(alice).post(URL, {"incident": incident.pk}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["title"] == f"Postmortem: {incident.title}"

    assert_error(move(api, alice, pk, "in_review"), 400, field="root_cause")
    write(api, alice, pk, summary="Income shifted.", root_cause="CRM export changed units.")
    assert move(api, alice, pk, "in_review").json()["status"] == "in_review"
    assert_error(move(api, alice, pk, "published"), 403)
    assert_error(move(api, dave, pk, "published"), 400, field="trigger")
    write(api, alice, pk, trigger="A deploy of the export job.", resolution="Retrained on the new units.")

    published = move(api, dave, pk, "published")

    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["published_by"] == "dave"
    assert api(carol).get(f"{URL}{pk}/").json()["root_cause"] == "CRM export changed units."
    transitions = AuditEntry.objects.filter(action="postmortem.transition").order_by("at", "id")
    assert [(e.actor, e.after["status"]) for e in transitions] == [
        ("alice", "in_review"),
        ("dave", "published"),
    ]


def test_a_published_postmortem_is_final_but_its_action_items_go_on(api, incident, alice, dave, bob):
    pm = postmortem_create(incident=incident, by=alice)
    Postmortem.objects.filter(pk=pm.pk).update(summary="s", root_cause="r", trigger="t", resolution="x")
    move(api, alice, pm.pk, "in_review")
    move(api, dave, pm.pk, "published")

    assert_error(write(api, alice, pm.pk, summary="rewrite"), 409)
    assert_error(api(alice).post(f"{URL}{pm.pk}/refresh/"), 409)
    item = api(alice).post(
        f"{URL}{pm.pk}/action-items/",
        {"title": "Alert on export units", "owner": bob.pk, "due_date": "2026-12-01"},
        format="json",
    )
    assert item.status_code == 201 and item.json()["owner"] == "bob" and item.json()["status"] == "open"
    done = api(alice).patch(f"/api/v1/action-items/{item.json()['id']}/", {"status": "done"}, format="json")
    assert done.json()["status"] == "done" and done.json()["done_at"] is not None
    assert AuditEntry.objects.filter(action="action_item.update", after__status="done").exists()


def test_publishing_waits_for_the_incident_to_be_resolved(api, credit_model, alice, dave):
    incident = api(alice).post(
        "/api/v1/incidents/", {"model": "credit-risk", "title": "odd", "severity": "SEV4"}, format="json"
    )
    pm = postmortem_create(incident=Incident.objects.get(pk=incident.json()["id"]), by=alice)
    Postmortem.objects.filter(pk=pm.pk).update(
        summary="s", root_cause="r", trigger="t", resolution="x", status="in_review"
    )

    assert_error(move(api, dave, pm.pk, "published"), 409, says="once it is resolved")


def test_one_postmortem_per_incident_and_only_analysts_write_them(api, incident, alice, bob, carol):
    assert_error(api(bob).post(URL, {"incident": incident.pk}, format="json"), 403)
    api(alice).post(URL, {"incident": incident.pk}, format="json")

    assert_error(api(alice).post(URL, {"incident": incident.pk}, format="json"), 409)
    assert api(carol).get(URL).json()["count"] == 1


def test_an_action_item_owner_needs_a_role(api, incident, alice):
    from tests.conftest import make_user

    nobody = make_user("nobody", None)
    pm = postmortem_create(incident=incident, by=alice)

    answer = api(alice).post(f"{URL}{pm.pk}/action-items/", {"title": "x", "owner": nobody.pk}, format="json")

    assert_error(answer, 400, field="owner")
