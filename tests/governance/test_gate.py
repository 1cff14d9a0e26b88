"""The serving gate: the decision production systems poll, and people changing the mode."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from drift.services.keys import integration_key_create
from drift.services.registry import model_create
from governance.models import AuditEntry, DriftEvent, ServingMode
from governance.selectors import serving_mode_of
from governance.services.gate import serving_mode_set
from tests.governance.conftest import assert_error, results

pytestmark = pytest.mark.usefixtures("clock")
DECISION = "/api/v1/models/credit-risk/serving-decision/"
MODE = "/api/v1/models/credit-risk/serving-mode/"


@pytest.fixture
def gated(share_policy, make_run, evaluate):
    evaluate(make_run(0, results(0.5)))
    return DriftEvent.objects.get()


def test_a_model_no_policy_touched_serves_normally(api, carol, credit_model):
    body = api(carol).get(DECISION).json()

    assert body == {"mode": "normal", "reason": "", "since": None, "events": []}


def test_the_decision_names_the_mode_reason_and_events_behind_it(api, carol, gated):
    body = api(carol).get(DECISION).json()

    assert body["mode"] == "human_review" and "Drift guard" in body["reason"]
    assert body["since"] == "2026-11-20T12:30:00Z"
    assert body["events"] == [
        {"id": gated.pk, "severity": "critical", "status": "detected", "title": gated.title}
    ]


def test_the_models_own_integration_key_reads_its_decision(api, credit_key, gated):
    answer = api(key=credit_key).get(DECISION)

    assert answer.status_code == 200 and answer.json()["mode"] == "human_review"


def test_another_models_key_is_refused_with_403(api, credit_model, db):
    other = model_create(slug="fraud", name="Fraud", task="binary_classification", owner="x")
    key = integration_key_create(model=other, name="fraud scorer")[1]

    assert_error(api(key=key).get(DECISION), 403)
    assert api(key=key).get("/api/v1/models/fraud/serving-decision/").status_code == 200


def test_an_unknown_model_is_404_and_anonymous_callers_401(api, carol, db):
    assert_error(api(carol).get("/api/v1/models/nope/serving-decision/"), 404)
    assert api().get(DECISION).status_code == 401


def test_an_unchanged_decision_answers_304_to_its_etag(api, carol, gated):
    first = api(carol).get(DECISION)
    etag = first["ETag"]

    again = api(carol).get(DECISION, HTTP_IF_NONE_MATCH=etag)

    assert first["Cache-Control"].startswith("private, max-age=") and etag.startswith('"')
    assert again.status_code == 304 and again["ETag"] == etag and not again.content


def test_a_changed_decision_answers_200_with_a_new_etag(api, carol, alice, gated):
    etag = api(carol).get(DECISION)["ETag"]
    serving_mode_set(model=gated.model, mode="normal", reason="retrained, verified on holdout", by=alice)

    answer = api(carol).get(DECISION, HTTP_IF_NONE_MATCH=etag)

    assert answer.status_code == 200 and answer["ETag"] != etag and answer.json()["mode"] == "normal"


def test_the_decision_reads_the_database_at_most_twice(api, credit_key, gated):
    client = api(key=credit_key)
    client.get(DECISION)  # warm: the key's last-used time is written at most once per interval

    with CaptureQueriesContext(connection) as queries:
        client.get(DECISION)

    authentication = [q for q in queries if "drift_integrationkey" in q["sql"]]
    decision = [q["sql"] for q in queries if q not in authentication]
    assert len(authentication) == 1 and len(decision) == 2, decision


def test_an_analyst_returns_the_model_to_normal_with_a_reason(api, alice, gated):
    answer = api(alice).post(MODE, {"mode": "normal", "reason": "retrained on November data"}, format="json")

    assert answer.status_code == 200 and answer.json() == {
        "mode": "normal",
        "reason": "retrained on November data",
        "since": "2026-11-20T12:30:00Z",
        "events": [],
    }
    entry = AuditEntry.objects.filter(action="serving_mode.change").latest("id")
    assert entry.user == alice and entry.before["mode"] == "human_review" and entry.after["mode"] == "normal"


def test_an_admin_may_relax_the_gate_too(api, dave, gated):
    answer = api(dave).post(MODE, {"mode": "fallback", "reason": "safer while we look"}, format="json")

    assert answer.status_code == 200 and serving_mode_of(gated.model) == ServingMode.FALLBACK


def test_relaxing_needs_a_written_reason(api, alice, gated):
    assert_error(api(alice).post(MODE, {"mode": "normal"}, format="json"), 400, field="reason")
    assert_error(
        api(alice).post(MODE, {"mode": "normal", "reason": "   "}, format="json"), 400, field="reason"
    )
    assert serving_mode_of(gated.model) == ServingMode.HUMAN_REVIEW


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_frontline_and_viewers_cannot_change_the_mode(api, request, who, gated):
    user = request.getfixturevalue(who)

    assert_error(api(user).post(MODE, {"mode": "normal", "reason": "please"}, format="json"), 403)
    assert serving_mode_of(gated.model) == ServingMode.HUMAN_REVIEW


def test_integration_keys_cannot_change_the_mode(api, credit_key, gated):
    answer = api(key=credit_key).post(MODE, {"mode": "normal", "reason": "we are fine"}, format="json")

    assert_error(answer, 403)


def test_the_service_itself_refuses_people_without_the_role(bob, gated):
    from monitoring_site.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        serving_mode_set(model=gated.model, mode="normal", reason="x", by=bob)
    assert refused.value.status == 403


def test_an_unknown_mode_is_a_400(api, alice, credit_model):
    assert_error(api(alice).post(MODE, {"mode": "off", "reason": "x"}, format="json"), 400, field="mode")


def test_the_model_api_can_show_the_mode_without_extra_queries(gated):
    from drift.models import MonitoredModel

    model = MonitoredModel.objects.select_related("serving_state").get(pk=gated.model_id)
    with CaptureQueriesContext(connection) as queries:
        mode = serving_mode_of(model)

    assert mode == "human_review" and len(queries) == 0
