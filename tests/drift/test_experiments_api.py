"""The experiments API: who may do what, locking, results, and the allocation the serving system reads."""

from datetime import timedelta

import pytest

from drift.models import Experiment
from drift.services.experiment_evaluation import experiment_evaluate
from governance.models import AuditEntry
from tests.conftest import prediction
from tests.drift.conftest import assert_error, iso
from tests.drift.experiments_support import (
    FIRST_HOUR,
    add_challenger,
    feed_hours,
    moving,
)


@pytest.fixture
def moving_clock():
    with moving() as clock:
        yield clock


@pytest.fixture
def credit_v2(credit_v1):
    return add_challenger(credit_v1)


BODY = {
    "model": "credit-risk",
    "name": "v2 against v1",
    "control": "v1",
    "challengers": ["v2"],
    "primary_metric": "true_negative_rate",
    "minimum_detectable_effect": 0.02,
    "guardrails": [{"metric": "latency_p95", "margin": 0.1}, {"metric": "error_rate", "margin": 0.005}],
}


@pytest.fixture
def created(api, alice, credit_v2, moving_clock):
    answer = api(alice).post("/api/v1/experiments/", BODY, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


@pytest.fixture
def started(api, alice, created):
    answer = api(alice).post(f"/api/v1/experiments/{created['id']}/start/")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_an_analyst_creates_an_experiment_in_draft(created):
    assert created["status"] == "draft" and created["criteria"] is None
    assert created["arms"] == [
        {"version": "v1", "role": "control", "planned_share": 0.5},
        {"version": "v2", "role": "challenger", "planned_share": 0.5},
    ]


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_frontline_and_viewers_cannot_create(api, who, request, credit_v2):
    answer = api(request.getfixturevalue(who)).post("/api/v1/experiments/", BODY, format="json")
    assert_error(answer, 403)


@pytest.mark.parametrize("who", ["bob", "carol"])
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("start", {}),
        ("stop", {"reason": "no"}),
        ("decision", {"decision": "promote", "reason": "no"}),
    ],
)
def test_only_analysts_start_stop_and_decide(api, created, who, request, action, body):
    user = request.getfixturevalue(who)
    answer = api(user).post(f"/api/v1/experiments/{created['id']}/{action}/", body, format="json")
    assert_error(answer, 403)
    assert (
        api(user).patch(f"/api/v1/experiments/{created['id']}/", {"name": "x"}, format="json").status_code
        == 403
    )


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_everyone_with_a_role_reads_experiments_and_results(api, created, who, request):
    client = api(request.getfixturevalue(who))
    assert client.get("/api/v1/experiments/?model=credit-risk").json()["count"] == 1
    assert client.get(f"/api/v1/experiments/{created['id']}/").status_code == 200
    results = client.get(f"/api/v1/experiments/{created['id']}/results/").json()
    assert results["summary"] == "The experiment has not started." and results["lift"] == []


def test_editing_after_the_start_is_refused(api, alice, started):
    answer = api(alice).patch(
        f"/api/v1/experiments/{started['id']}/", {"minimum_detectable_effect": 0.5}, format="json"
    )
    assert_error(answer, 400, field="status", says="only drafts")
    assert api(alice).delete(f"/api/v1/experiments/{started['id']}/").status_code == 400
    assert Experiment.objects.get(pk=started["id"]).minimum_detectable_effect == 0.02


def test_a_draft_is_edited_and_deleted(api, alice, created):
    url = f"/api/v1/experiments/{created['id']}/"
    edited = api(alice).patch(url, {"allocation": {"v1": 0.8, "v2": 0.2}}, format="json").json()
    assert [a["planned_share"] for a in edited["arms"]] == [0.8, 0.2]
    assert api(alice).delete(url).status_code == 204
    assert AuditEntry.objects.filter(action="experiment.delete", object_id=str(created["id"])).exists()


def test_invalid_bodies_name_the_field(api, alice, credit_v2):
    answer = api(alice).post("/api/v1/experiments/", {**BODY, "primary_metric": "vibes"}, format="json")
    assert_error(answer, 400, field="primary_metric")
    answer = api(alice).post("/api/v1/experiments/", {**BODY, "challengers": ["nope"]}, format="json")
    assert_error(answer, 400, field="challengers", says="unknown version")


def test_stop_needs_a_reason_and_decision_a_known_choice(api, alice, started):
    base = f"/api/v1/experiments/{started['id']}"
    assert_error(api(alice).post(f"{base}/stop/", {}, format="json"), 400, field="reason")
    assert api(alice).post(f"{base}/stop/", {"reason": "Freeze"}, format="json").json()["status"] == "stopped"
    bad = api(alice).post(f"{base}/decision/", {"decision": "maybe", "reason": "x"}, format="json")
    assert_error(bad, 400, field="decision")
    done = api(alice).post(f"{base}/decision/", {"decision": "revert", "reason": "Not now"}, format="json")
    assert done.status_code == 201 and done.json()["decision"] == "revert"


def test_results_show_lift_guardrails_mismatch_and_allocation_over_time(
    api, alice, carol, started, credit_v1, credit_v2, moving_clock
):
    feed_hours([(credit_v1, 400, 0.80), (credit_v2, 400, 0.80)], hours=3)
    moving_clock.at(FIRST_HOUR + timedelta(hours=3, minutes=5))
    experiment_evaluate(experiment_id=started["id"])
    results = api(carol).get(f"/api/v1/experiments/{started['id']}/results/").json()
    assert results["metric"]["name"] == "true_negative_rate"
    (point,) = results["lift"]
    assert point["look"] == 1 and point["lower"] < point["estimate"] < point["upper"]
    assert [g["metric"] for g in results["guardrails"]] == ["latency_p95", "error_rate"]
    assert results["srm"]["observed"] == {"v1": 1_200, "v2": 1_200} and not results["srm"]["mismatch"]
    assert results["daily"][0]["day"] == "2026-11-20" and "v2" in results["daily"][0]["comparisons"]
    assert results["allocation"]["history"][0]["shares"] == {"v1": 0.5, "v2": 0.5}
    assert results["summary"].startswith("Version v2's true negative rate is")


def test_the_serving_system_reads_the_allocation_with_its_key(api, started, credit_key):
    answer = api(key=credit_key).get("/api/v1/models/credit-risk/allocation/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["experiment"] == started["id"] and body["mode"] == "ab"
    assert body["arms"] == [{"version": "v1", "share": 0.5}, {"version": "v2", "share": 0.5}]
    assert_error(api(key=credit_key).get(f"/api/v1/experiments/{started['id']}/"), 403)


def test_another_models_key_cannot_read_the_allocation(api, started, db):
    from drift.services.keys import integration_key_create
    from drift.services.registry import model_create

    other = model_create(slug="other", name="Other", task="regression")
    key = integration_key_create(model=other, name="other service")[1]
    assert_error(api(key=key).get("/api/v1/models/credit-risk/allocation/"), 403)


def test_without_an_experiment_all_traffic_goes_to_production(api, carol, credit_v1):
    body = api(carol).get("/api/v1/models/credit-risk/allocation/").json()
    assert body["experiment"] is None and body["arms"] == [{"version": "v1", "share": 1.0}]


def test_predictions_and_outcomes_sent_through_the_api_feed_the_arms(
    api, alice, started, credit_key, moving_clock
):
    moving_clock.at(FIRST_HOUR + timedelta(hours=2))
    machine = api(key=credit_key)
    # Pairs of rows (one predicted 0, one 1) are right or both wrong: v1 is wrong every 2nd pair, v2
    # every 10th, so each version has 100 negatives and v2 clears more of them.
    for version, offset, wrong_every in (("v1", 0, 2), ("v2", 1_000, 10)):
        records = [
            prediction(offset + i, timestamp=iso(FIRST_HOUR + timedelta(minutes=i % 60)), prediction=i % 2)
            for i in range(200)
        ]
        answer = machine.post(
            "/api/v1/models/credit-risk/predictions/", {"version": version, "records": records}, format="json"
        )
        assert answer.json()["accepted"] == 200, answer.content
        outcomes = [
            {
                "prediction_id": r["id"],
                "label": 1 - r["prediction"] if (i // 2) % wrong_every == 0 else r["prediction"],
                "timestamp": iso(FIRST_HOUR + timedelta(hours=1)),
            }
            for i, r in enumerate(records)
        ]
        answer = machine.post("/api/v1/models/credit-risk/outcomes/", {"records": outcomes}, format="json")
        assert answer.json()["accepted"] == 200, answer.content
    look = experiment_evaluate(experiment_id=started["id"])
    arms = {a["version"]: a for a in look.results["arms"]}
    assert (arms["v1"]["traffic"], arms["v2"]["traffic"]) == (200, 200)
    assert arms["v1"]["labelled"] == 100 and arms["v2"]["labelled"] == 100  # label 0 rows: the negatives
    assert (arms["v1"]["mean"], arms["v2"]["mean"]) == (0.5, 0.9)
