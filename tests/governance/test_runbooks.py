"""Runbooks: versioned on every edit, rendered safely, linked from policies and incidents."""

import pytest

from governance.models import AuditEntry, Incident, Runbook
from governance.services.runbooks import runbook_create
from tests.governance.conftest import SHARE_RULE, assert_error, results

pytestmark = pytest.mark.usefixtures("clock")
URL = "/api/v1/runbooks/"
BODY = "# When income drifts\n\n1. Check the CRM export\n2. Ask <b>data-eng</b>\n"


def create(api, user, **body):
    return api(user).post(
        URL, {"slug": "income-drift", "title": "Income drift", "body": BODY, **body}, format="json"
    )


def test_an_analyst_writes_a_runbook_that_everyone_reads_rendered_safely(api, alice, carol, credit_model):
    created = create(api, alice, model="credit-risk")

    assert created.status_code == 201, created.json()
    body = api(carol).get(f"{URL}{created.json()['id']}/").json()
    assert body["version"] == 1 and body["model"] == "credit-risk" and body["title"] == "Income drift"
    assert body["html"].startswith("<h1>When income drifts</h1>\n<ol>")
    assert "&lt;b&gt;data-eng&lt;/b&gt;" in body["html"] and "<b>" not in body["html"]
    assert AuditEntry.objects.filter(action="runbook.create", actor="alice").exists()


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_frontline_and_viewers_cannot_write_runbooks(api, request, who, credit_model):
    assert_error(create(api, request.getfixturevalue(who)), 403)
    assert not Runbook.objects.exists()


def test_each_edit_is_a_new_version_and_the_old_ones_stay_readable(api, alice, credit_model):
    pk = create(api, alice).json()["id"]

    edited = api(alice).put(
        f"{URL}{pk}/", {"body": "Call **the owner**.", "reason": "shorter", "title": "Income"}, format="json"
    )

    assert edited.status_code == 200, edited.json()
    body = edited.json()
    assert (
        body["version"] == 2
        and body["title"] == "Income"
        and body["html"] == "<p>Call <strong>the owner</strong>.</p>"
    )
    assert [v["number"] for v in body["versions"]] == [2, 1] and body["versions"][0]["reason"] == "shorter"
    old = api(alice).get(f"{URL}{pk}/versions/1/").json()
    assert old["title"] == "Income drift" and old["body"] == BODY.strip()
    assert AuditEntry.objects.filter(action="runbook.update", reason="shorter").count() == 1


def test_an_edit_needs_a_reason_and_a_missing_version_is_404(api, alice, credit_model):
    pk = create(api, alice).json()["id"]

    assert_error(api(alice).put(f"{URL}{pk}/", {"body": "x"}, format="json"), 400, field="reason")
    assert_error(api(alice).get(f"{URL}{pk}/versions/7/"), 404)


def test_a_duplicate_slug_is_a_conflict(api, alice, credit_model):
    create(api, alice)

    assert_error(create(api, alice), 409)


def test_a_retired_runbook_leaves_the_list_but_stays_readable(api, alice, credit_model):
    pk = create(api, alice).json()["id"]

    api(alice).delete(f"{URL}{pk}/?reason=replaced")

    assert api(alice).get(URL).json()["count"] == 0
    assert api(alice).get(f"{URL}?retired=true").json()["count"] == 1
    assert api(alice).get(f"{URL}{pk}/").json()["is_active"] is False
    assert_error(api(alice).put(f"{URL}{pk}/", {"body": "x", "reason": "y"}, format="json"), 409)


def test_a_policy_links_its_runbook_and_the_incident_it_opens_links_it_too(
    api, alice, credit_model, make_run, evaluate
):
    runbook = runbook_create(
        slug="income-drift", title="Income drift", body=BODY, by=alice, model=credit_model
    )
    rule = {**SHARE_RULE, "actions": [{"type": "open_event"}, {"type": "open_incident", "severity": "SEV3"}]}
    created = api(alice).post(
        "/api/v1/models/credit-risk/policies/",
        {"name": "Guard", "rules": [rule], "runbook": runbook.pk},
        format="json",
    )
    assert created.status_code == 201 and created.json()["runbook"]["slug"] == "income-drift"

    evaluate(make_run(0, results(0.5)))

    incident = Incident.objects.get()
    assert incident.runbook == runbook
    assert incident.timeline.filter(text="Runbook: Income drift (income-drift v1).").exists()
    event = api(alice).get(f"/api/v1/events/{incident.events.get().pk}/").json()
    assert event["runbook"]["id"] == runbook.pk


def test_linking_a_runbook_to_a_policy_is_audited_without_a_new_policy_version(api, alice, share_policy):
    runbook = runbook_create(slug="shared", title="Shared", body="x", by=alice)

    answer = api(alice).patch(
        f"/api/v1/policies/{share_policy.pk}/",
        {"runbook": runbook.pk, "reason": "on-call asked"},
        format="json",
    )

    assert answer.status_code == 200 and answer.json()["runbook"]["id"] == runbook.pk
    assert answer.json()["version"] == 1
    entry = AuditEntry.objects.get(action="policy.runbook")
    assert entry.after == {"runbook": runbook.pk} and entry.reason == "on-call asked"


def test_a_runbook_of_another_model_cannot_be_linked(api, alice, share_policy):
    from drift.services.registry import model_create

    other = model_create(slug="churn", name="Churn", task="binary_classification")
    runbook = runbook_create(slug="churn-only", title="Churn", body="x", by=alice, model=other)

    answer = api(alice).patch(f"/api/v1/policies/{share_policy.pk}/", {"runbook": runbook.pk}, format="json")

    assert_error(answer, 400, field="runbook", says="another model")


def test_an_incident_links_a_runbook_by_patch_and_notes_it_on_the_timeline(api, alice, credit_model):
    runbook = runbook_create(slug="shared", title="Shared steps", body="x", by=alice)
    incident = (
        api(alice)
        .post(
            "/api/v1/incidents/", {"model": "credit-risk", "title": "odd", "severity": "SEV4"}, format="json"
        )
        .json()
    )

    answer = api(alice).patch(f"/api/v1/incidents/{incident['id']}/", {"runbook": runbook.pk}, format="json")

    assert answer.status_code == 200 and answer.json()["runbook"]["slug"] == "shared"
    assert answer.json()["timeline"][-1]["text"] == "Runbook: Shared steps (shared v1)."
    assert_error(
        api(alice).patch(f"/api/v1/incidents/{incident['id']}/", {"runbook": 999}, format="json"),
        400,
        field="runbook",
    )
