"""The audit log: written with every governance change, append-only in the database, read and exported."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction

from drift.services.registry import model_create
from governance.models import AuditEntry, Policy, ServingState
from governance.services import gate
from governance.services.audit import Actor, audit_record
from governance.services.gate import serving_mode_set
from governance.services.policies import policy_create, policy_update
from tests.governance.conftest import SHARE_RULE, assert_error

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…)")


def test_a_policy_change_records_who_what_before_after_and_why(share_policy, alice):
    policy_update(policy=share_policy, rules=[{**SHARE_RULE, "value": 0.3}], reason="too noisy", by=alice)

    entry = AuditEntry.objects.get(action="policy.update")
    assert (entry.user, entry.actor, entry.model, entry.reason) == (
        alice,
        "alice",
        share_policy.model,
        "too noisy",
    )
    assert entry.object_type == "policy" and entry.object_id == str(share_policy.pk)
    assert entry.before["rules"][0]["value"] == 0.2 and entry.after["rules"][0]["value"] == 0.3
    assert entry.at.isoformat() == "2026-11-20T12:30:00+00:00"


def test_a_failing_write_leaves_neither_the_change_nor_its_audit_row(alice, credit_model, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the notification fan-out failed")

    monkeypatch.setattr(gate, "notify", broken)

    with pytest.raises(RuntimeError):
        serving_mode_set(model=credit_model, mode="paused", reason="suspicious traffic", by=alice)

    assert not AuditEntry.objects.filter(model=credit_model).exists()
    assert not ServingState.objects.filter(model=credit_model, mode="paused").exists()


def test_a_failing_audit_write_undoes_the_change(alice, credit_model, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEntry.objects, "create", refuse)

    with pytest.raises(DatabaseError):
        policy_create(model=credit_model, name="Guard", rules=[SHARE_RULE], by=alice)

    assert not Policy.objects.exists()


def test_audit_record_refuses_to_run_outside_a_transaction(credit_model, transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor.system("test"), action="x.y", obj=credit_model, model=credit_model)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize(
    "tamper",
    [
        lambda pk: AuditEntry.objects.filter(pk=pk).update(reason="nothing happened"),
        lambda pk: AuditEntry.objects.filter(pk=pk).delete(),
        lambda pk: connection.cursor().execute("UPDATE governance_auditentry SET actor = 'mallory'"),
        lambda pk: connection.cursor().execute("DELETE FROM governance_auditentry"),
    ],
    ids=["queryset update", "queryset delete", "raw update", "raw delete"],
)
def test_the_database_refuses_to_update_or_delete_audit_rows(share_policy, tamper):
    entry = AuditEntry.objects.get()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        tamper(entry.pk)

    entry.refresh_from_db()
    assert entry.actor == "alice" and entry.reason == ""


def test_deleting_a_model_keeps_its_audit_history(share_policy, credit_model):
    model_id = credit_model.pk

    credit_model.delete()  # on PostgreSQL this would fail if deleting touched the audit rows

    assert AuditEntry.objects.filter(model_id=model_id).count() == 1


@pytest.fixture
def history(share_policy, alice, dave, credit_model):
    other = model_create(slug="fraud", name="Fraud", task="binary_classification", owner="x")
    policy_create(model=other, name="Fraud guard", rules=[SHARE_RULE], by=dave)
    policy_update(
        policy=share_policy, rules=[{**SHARE_RULE, "value": 0.3}], reason="=cmd|' /C calc'!A0", by=alice
    )
    serving_mode_set(model=credit_model, mode="fallback", reason="precaution", by=dave)


def test_the_api_filters_by_model_action_actor_and_time(api, carol, history):
    def actions(query):
        answer = api(carol).get(f"/api/v1/audit/?{query}")
        assert answer.status_code == 200, answer.json()
        return [e["action"] for e in answer.json()["results"]]

    assert actions("model=credit-risk") == ["serving_mode.change", "policy.update", "policy.create"]
    assert actions("action=policy") == ["policy.update", "policy.create", "policy.create"]
    assert actions("action=policy.update&actor=alice") == ["policy.update"]
    assert actions("actor=dave&model=fraud") == ["policy.create"]
    assert actions("since=2026-11-20T12:30:00Z&until=2026-11-20T12:31:00Z")[0] == "serving_mode.change"
    assert actions("until=2026-11-20T12:00:00Z") == []


def test_a_bad_filter_is_a_400_naming_it(api, carol, history):
    assert_error(api(carol).get("/api/v1/audit/?since=yesterday"), 400, field="since")
    assert_error(api(carol).get("/api/v1/audit/?model=nope"), 400, field="model")


@pytest.mark.parametrize(
    "url", ["/api/v1/audit/?format=csv&model=credit-risk", "/api/v1/audit/export.csv?model=credit-risk"]
)
def test_the_audit_exports_as_csv_safe_for_spreadsheets(api, alice, history, url):
    answer = api(alice).get(url)

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["serving_mode.change", "policy.update", "policy.create"]
    assert rows[1]["reason"] == "'=cmd|' /C calc'!A0"  # a formula is neutralised, not run
    assert rows[1]["model"] == "credit-risk" and '"value": 0.3' in rows[1]["after"]


def test_channel_secrets_stay_out_of_the_audit_log(alice, credit_model):
    from governance.services.notifications import channel_create

    channel_create(
        model=credit_model,
        name="Slack",
        kind="slack",
        target="https://hooks.slack.com/services/T0/B0/SECRET",
        actor=Actor.of(alice),
    )

    entry = AuditEntry.objects.get(action="channel.create", model=credit_model)
    assert "SECRET" not in str(entry.after) and entry.after["target"] == "https://hooks.slack.com/…"


def test_integration_keys_cannot_read_the_audit_log(api, credit_key):
    assert_error(api(key=credit_key).get("/api/v1/audit/"), 403)
