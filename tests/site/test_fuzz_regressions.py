"""Requests schemathesis (scripts/fuzz-api) found answered with a 5xx, kept as regressions.

NUL characters in a query string are refused with 400 before any view: a database never sees them
(PostgreSQL refuses to compare text holding NUL). Policy rules whose `op` or action `type` is a list or
an object are refused by name (they were looked up in a dict: TypeError)."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/events/?model=%00", "model"),
        ("/api/v1/audit/?status=open&actor=a%00b", "actor"),
        ("/api/v1/models/?x%00=1", "x\x00"),
    ],
)
def test_api_urls_with_a_nul_character_answer_json_400(api, alice, path, field):
    answer = api(alice).get(path)

    assert answer.status_code == 400
    body = answer.json()
    assert body["errors"] == [{"field": field, "message": "contains a NUL character (\\u0000)"}]
    assert "NUL character" in body["detail"]


@pytest.mark.django_db
def test_pages_refuse_them_too_and_harmless_urls_pass(client, api, alice, credit_model):
    assert client.get("/models/credit-risk/?run=%00").status_code == 400
    assert api(alice).get("/api/v1/events/?model=credit-risk&note=100%25").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"signal": "data_drift.share_drifted", "op": {}, "value": 0.2}, "rules[0].op"),
        ({"signal": "data_drift.share_drifted", "op": [">"], "value": 0.2}, "rules[0].op"),
        (
            {
                "signal": "data_drift.share_drifted",
                "op": ">",
                "value": 0.2,
                "actions": [{"type": ["notify"]}],
            },
            "rules[0].actions[0].type",
        ),
    ],
)
def test_policy_rules_with_a_list_or_object_where_text_belongs_answer_400(
    api, alice, credit_model, rule, field
):
    answer = api(alice).post(
        "/api/v1/models/credit-risk/policies/", {"name": "p", "rules": [rule]}, format="json"
    )

    assert answer.status_code == 400, answer.content[:300]
    assert field in [e["field"] for e in answer.json()["errors"]]
