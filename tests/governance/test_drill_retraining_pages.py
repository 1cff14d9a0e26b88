"""Drill and retraining request pages: read by every role, acted on by analysts through the same services
as the API, refusals shown on the page."""

import pytest
from django.test import Client

from drift.scenarios import make_scenario
from governance.models import AuditEntry, Drill, RetrainingRequest
from governance.services.retraining import retraining_request_create
from tests.drift.analyses_support import scenario_model

pytestmark = pytest.mark.usefixtures("clock")


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def drill_model(db):
    """A production model with a reference to replay."""
    return scenario_model(make_scenario("stationary", n_reference=300, n_current=10, seed=3)).model


def test_an_analyst_starts_a_drill_from_the_page_and_ends_it(drill_model, alice, carol):
    client = as_user(alice)

    started = client.post(
        "/drills/", {"model": drill_model.slug, "scenario": "mean_shift", "magnitude": "1", "rows": "60"}
    )

    drill = Drill.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/drills/{drill.pk}/"
    assert drill.rows == 60 and drill.magnitude == 1.0 and drill.started_by == alice
    page = as_user(carol).get(f"/drills/{drill.pk}/").content.decode()
    assert "Time to detect" in page and "mean shift" in page and 'name="action"' not in page
    assert "1 drill" in as_user(carol).get("/drills/").content.decode()

    ended = client.post(f"/drills/{drill.pk}/", {"action": "end", "note": "we learned"})

    assert ended.status_code == 302
    drill.refresh_from_db()
    assert drill.status == "completed" and drill.report["summary"]
    assert AuditEntry.objects.filter(action="drill.end", reason="we learned").exists()
    again = client.post(f"/drills/{drill.pk}/", {"action": "end"})
    assert again.status_code == 409 and "already ended" in again.content.decode()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"scenario": "mean_shift", "magnitude": "lots"}, "magnitude: a number"),
        ({"scenario": "mean_shift", "magnitude": "50"}, "magnitude: a number above 0, at most 10"),
        ({"scenario": "mean_shift", "rows": "5"}, "rows: between 50 and"),
        ({"scenario": "earthquake"}, "scenario: one of"),
        ({"scenario": "mean_shift", "model": "nope"}, "model: no model"),
    ],
)
def test_bad_drill_input_gets_a_clear_message(drill_model, alice, data, says):
    response = as_user(alice).post("/drills/", {"model": drill_model.slug, **data})

    assert response.status_code == 400 and says in response.content.decode()
    assert not Drill.objects.exists()


def test_viewers_cannot_start_or_end_drills(drill_model, carol, bob):
    for user in (carol, bob):
        client = as_user(user)
        assert "Start a drill" not in client.get("/drills/").content.decode()
        response = client.post("/drills/", {"model": drill_model.slug, "scenario": "mean_shift"})
        assert response.status_code == 403
    assert not Drill.objects.exists()


@pytest.fixture
def retraining(credit_model, alice):
    return retraining_request_create(model=credit_model, reason="income moved", by=alice)


def test_an_analyst_decides_on_a_retraining_request(retraining, alice, carol):
    client = as_user(alice)
    path = f"/retraining-requests/{retraining.pk}/"
    assert "income moved" in as_user(carol).get(path).content.decode()

    refused = client.post(path, {"action": "transition", "to": "rejected", "note": ""})
    assert refused.status_code == 400 and "note: required" in refused.content.decode()
    accepted = client.post(path, {"action": "transition", "to": "accepted", "note": "go"})

    assert accepted.status_code == 302
    retraining.refresh_from_db()
    assert retraining.status == "accepted" and retraining.decided_by == alice
    assert AuditEntry.objects.filter(action="retraining.transition", actor="alice").exists()
    unknown = client.post(path, {"action": "transition", "to": "completed", "version": "v9"})
    assert unknown.status_code == 400 and "no version" in unknown.content.decode()


def test_the_accept_button_promises_a_pipeline_call_only_when_there_is_one(retraining, alice):
    from governance.services.retraining import retraining_pipeline_set

    path = f"/retraining-requests/{retraining.pk}/"
    without = as_user(alice).get(path).content.decode()
    retraining_pipeline_set(model=retraining.model, url="https://ci.example.com/retrain", by=alice)
    with_one = as_user(alice).get(path).content.decode()

    assert 'value="accepted" class="button action">Accept</button>' in without
    assert "calls the pipeline" not in without and "Accept (calls the pipeline)" in with_one


def test_an_analyst_asks_for_retraining_from_the_list(credit_model, alice, carol):
    client = as_user(alice)

    asked = client.post("/retraining-requests/", {"model": "credit-risk", "reason": "labels drifted"})

    made = RetrainingRequest.objects.get()
    assert asked.status_code == 302 and asked["Location"] == f"/retraining-requests/{made.pk}/"
    assert made.requested_by == "alice"
    missing = client.post("/retraining-requests/", {"model": "credit-risk", "reason": " "})
    assert missing.status_code == 400 and "reason: required" in missing.content.decode()
    page = as_user(carol).get("/retraining-requests/").content.decode()
    assert "labels drifted" in page and "Ask for retraining" not in page


def test_viewers_cannot_move_retraining_requests(retraining, carol, bob):
    for user in (carol, bob):
        response = as_user(user).post(
            f"/retraining-requests/{retraining.pk}/", {"action": "transition", "to": "accepted"}
        )
        assert response.status_code == 403
    retraining.refresh_from_db()
    assert retraining.status == "requested"


def test_empty_lists_say_what_to_do_next(db, carol):
    client = as_user(carol)
    assert "An analyst starts drills" in client.get("/drills/").content.decode()
    assert "No retraining requests yet" in client.get("/retraining-requests/").content.decode()
