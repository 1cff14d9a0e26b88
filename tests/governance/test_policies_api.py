"""Policies over the API: create and list per model, read, change (a new version), deactivate."""

import pytest

from governance.models import AuditEntry, Policy, PolicyVersion
from tests.governance.conftest import SHARE_RULE, assert_error

pytestmark = pytest.mark.usefixtures("clock")
URL = "/api/v1/models/credit-risk/policies/"


def create(api, user, **body):
    return api(user).post(URL, {"name": "Drift guard", "rules": [SHARE_RULE], **body}, format="json")


def test_an_analyst_creates_a_policy_with_the_issues_example_rule(api, alice, credit_model):
    answer = create(api, alice)

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["model"] == "credit-risk" and body["version"] == 1 and body["is_active"]
    assert body["rules"][0]["signal"] == "data_drift.share_drifted" and body["rules"][0]["windows"] == 1
    assert body["versions"][0]["created_by"] == "alice"


def test_everyone_with_a_role_lists_the_models_policies(api, alice, carol, credit_model):
    create(api, alice)

    body = api(carol).get(URL).json()

    assert body["count"] == 1 and body["results"][0]["name"] == "Drift guard"


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_frontline_and_viewers_cannot_create_policies(api, request, who, credit_model):
    assert_error(create(api, request.getfixturevalue(who)), 403)
    assert not Policy.objects.exists()


def test_an_invalid_rule_is_a_400_naming_the_rule_and_field(api, alice, credit_model):
    bad = {**SHARE_RULE, "op": "about"}
    answer = api(alice).post(URL, {"name": "x", "rules": [SHARE_RULE, bad]}, format="json")

    body = assert_error(answer, 400, field="rules[1].op")
    assert "rules[1].op" in body["detail"]


def test_a_bad_action_is_named_down_to_its_field(api, alice, credit_model):
    bad = {**SHARE_RULE, "actions": [{"type": "open_incident", "severity": "SEV9"}]}

    assert_error(
        api(alice).post(URL, {"name": "x", "rules": [bad]}, format="json"),
        400,
        field="rules[0].actions[0].severity",
    )


def test_two_active_policies_of_a_model_cannot_share_a_name(api, alice, credit_model):
    create(api, alice)

    assert_error(create(api, alice), 400, field="name")


def test_a_change_makes_a_new_version_and_keeps_the_old_one(api, alice, carol, credit_model):
    pk = create(api, alice).json()["id"]

    answer = api(alice).put(
        f"/api/v1/policies/{pk}/",
        {"rules": [{**SHARE_RULE, "value": 0.3}], "reason": "too noisy"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    body = api(carol).get(f"/api/v1/policies/{pk}/").json()
    assert body["version"] == 2 and body["rules"][0]["value"] == 0.3
    assert [(v["number"], v["rules"][0]["value"]) for v in body["versions"]] == [(2, 0.3), (1, 0.2)]
    assert body["versions"][0]["reason"] == "too noisy"


def test_a_change_needs_a_reason(api, alice, credit_model):
    pk = create(api, alice).json()["id"]

    assert_error(
        api(alice).put(f"/api/v1/policies/{pk}/", {"rules": [SHARE_RULE]}, format="json"), 400, field="reason"
    )
    assert_error(
        api(alice).put(f"/api/v1/policies/{pk}/", {"rules": [SHARE_RULE], "reason": " "}, format="json"),
        400,
        field="reason",
    )
    assert PolicyVersion.objects.count() == 1


def test_delete_deactivates_and_keeps_the_record(api, alice, credit_model):
    pk = create(api, alice).json()["id"]

    answer = api(alice).delete(f"/api/v1/policies/{pk}/?reason=replaced")

    assert answer.status_code == 200 and answer.json()["is_active"] is False
    assert Policy.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.get(action="policy.deactivate").reason == "replaced"
    assert api(alice).get(URL).json()["count"] == 0
    assert_error(
        api(alice).put(f"/api/v1/policies/{pk}/", {"rules": [SHARE_RULE], "reason": "x"}, format="json"), 409
    )


def test_an_unknown_policy_or_model_is_404(api, alice, credit_model):
    assert_error(api(alice).get("/api/v1/policies/999/"), 404)
    assert_error(api(alice).get("/api/v1/models/nope/policies/"), 404)


def test_integration_keys_cannot_touch_policies(api, credit_key):
    assert_error(api(key=credit_key).get(URL), 403)


def test_a_body_that_is_not_an_object_is_a_400(api, alice, credit_model):
    assert_error(api(alice).post(URL, [SHARE_RULE], format="json"), 400, field="body")
