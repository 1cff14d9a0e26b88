"""Notifications: signed webhooks to a real HTTP receiver, retries with backoff, one per state change."""

import json
import time

from django.core import mail

from governance.models import Delivery, DeliveryStatus, DriftEvent
from governance.notifications import verify_signature
from governance.services.audit import Actor
from governance.services.events import drift_event_transition
from governance.services.notifications import channel_create
from governance.tasks import DELIVERY_RETRIES
from tests.governance.conftest import assert_error, results

SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cw=="  # base64 of "secret-for-tests"


def channel(model, alice, kind, target, **extra):
    return channel_create(model=model, name=kind, kind=kind, target=target, actor=Actor.of(alice), **extra)


def breach(make_run, evaluate, day=0, share=0.5):
    evaluate(make_run(day, results(share)))


def test_a_webhook_is_signed_so_the_receiver_can_verify_it(receiver, share_policy, alice, make_run, evaluate):
    hook = receiver(200)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET)

    breach(make_run, evaluate)

    got = next(r for r in hook.received if json.loads(r["body"])["type"] == "event.detected")
    headers = got["headers"]
    assert verify_signature(SECRET, headers, got["body"], now=int(time.time()))
    assert not verify_signature("whsec_b3RoZXI=", headers, got["body"], now=int(time.time()))
    assert headers["webhook-signature"].startswith("v1,") and headers["webhook-id"].startswith("dw_")
    payload = json.loads(got["body"])
    assert payload["data"]["model"] == "credit-risk" and payload["data"]["kind"] == "event"
    assert payload["data"]["details"]["value"] == 0.5
    delivery = Delivery.objects.get(topic__startswith="event:")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 1, 200)


def test_a_failing_receiver_is_retried_until_it_answers(receiver, share_policy, alice, make_run, evaluate):
    hook = receiver(500, 500, 200)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")

    breach(make_run, evaluate)

    delivery = Delivery.objects.get(topic__startswith="event:")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 3, 200)
    ids = {
        r["headers"]["webhook-id"] for r in hook.received if json.loads(r["body"])["data"]["kind"] == "event"
    }
    assert len(ids) == 1  # every retry carries the same id, so the receiver can de-duplicate


def test_a_receiver_that_always_fails_leaves_a_failed_delivery(
    receiver, share_policy, alice, make_run, evaluate
):
    hook = receiver(500)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")

    breach(make_run, evaluate)

    delivery = Delivery.objects.get(topic__startswith="event:")
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1 + DELIVERY_RETRIES
    assert delivery.response_code == 500 and "500" in delivery.last_error and delivery.sent_at is None


def test_a_refusal_is_not_retried(receiver, share_policy, alice, make_run, evaluate):
    hook = receiver(410)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")

    breach(make_run, evaluate)

    delivery = Delivery.objects.get(topic__startswith="event:")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 410)


def test_an_unreachable_receiver_is_transient_and_ends_failed(
    share_policy, alice, make_run, evaluate, settings
):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "NOTIFY_TIMEOUT_SECONDS": 2}
    channel(
        share_policy.model, alice, "webhook", "http://127.0.0.1:9/nothing-listens", min_severity="critical"
    )

    breach(make_run, evaluate)

    delivery = Delivery.objects.get(topic__startswith="event:")
    assert delivery.status == "failed" and "could not reach" in delivery.last_error


def test_a_continuing_breach_sends_exactly_one_notification(
    receiver, share_policy, alice, make_run, evaluate
):
    hook = receiver(200)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")

    for day in range(4):
        breach(make_run, evaluate, day)

    assert DriftEvent.objects.get().windows == 4
    assert sorted(json.loads(r["body"])["type"] for r in hook.received) == [
        "event.detected",
        "serving_mode.human_review",
    ]


def test_each_state_change_of_an_event_is_notified_once(
    receiver, share_policy, alice, make_run, evaluate, django_capture_on_commit_callbacks
):
    hook = receiver(200)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")
    breach(make_run, evaluate)
    event = DriftEvent.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        drift_event_transition(event=event, to="acknowledged", by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        drift_event_transition(event=event, to="false_alarm", by=alice)

    types = [json.loads(r["body"])["type"] for r in hook.received]
    assert [t for t in types if t.startswith("event.")] == [
        "event.detected",
        "event.acknowledged",
        "event.false_alarm",
    ]


def test_slack_gets_text_and_blocks(receiver, share_policy, alice, make_run, evaluate):
    hook = receiver(200)
    channel(share_policy.model, alice, "slack", hook.url, min_severity="critical")

    breach(make_run, evaluate)

    body = hook.json()
    assert body["text"].startswith(":red_circle: credit-risk:")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]


def test_pagerduty_triggers_then_resolves_one_alert_per_event(
    receiver, share_policy, alice, make_run, evaluate, settings, django_capture_on_commit_callbacks
):
    hook = receiver(202)
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "PAGERDUTY_EVENTS_URL": hook.url}
    channel(share_policy.model, alice, "pagerduty", "R0UT1NGKEY0123456789abcd", min_severity="critical")
    breach(make_run, evaluate)
    event = DriftEvent.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        drift_event_transition(event=event, to="false_alarm", by=alice)

    sent = [
        json.loads(r["body"]) for r in hook.received if json.loads(r["body"])["payload"]["group"] == "event"
    ]
    assert [s["event_action"] for s in sent] == ["trigger", "resolve"]
    assert {s["dedup_key"] for s in sent} == {f"event-{event.pk}"}
    first = sent[0]
    assert first["routing_key"] == "R0UT1NGKEY0123456789abcd" and first["payload"]["severity"] == "critical"
    assert first["payload"]["source"] == "driftwatch/credit-risk"
    assert first["payload"]["custom_details"]["signal"] == "data_drift.share_drifted"


def test_email_goes_through_django_mail(share_policy, alice, make_run, evaluate):
    channel(share_policy.model, alice, "email", "risk-team@example.com", min_severity="critical")

    breach(make_run, evaluate)

    subjects = [m.subject for m in mail.outbox]
    assert any(s.startswith("[Driftwatch critical] credit-risk:") for s in subjects)
    assert all(m.to == ["risk-team@example.com"] for m in mail.outbox)


def test_a_channel_only_hears_severities_at_or_above_its_minimum(credit_model, alice, make_run, evaluate):
    from governance.services.policies import policy_create
    from tests.governance.conftest import SHARE_RULE

    policy_create(
        model=credit_model,
        name="Info",
        rules=[{**SHARE_RULE, "severity": "info", "actions": [{"type": "open_event"}]}],
        by=alice,
    )
    channel(credit_model, alice, "email", "quiet@example.com", min_severity="warning")

    breach(make_run, evaluate)

    assert DriftEvent.objects.count() == 1 and not Delivery.objects.exists()


def test_a_rule_without_an_event_notifies_the_breach_once(credit_model, alice, make_run, evaluate):
    from governance.services.policies import policy_create
    from tests.governance.conftest import SHARE_RULE

    policy_create(
        model=credit_model, name="Ping", rules=[{**SHARE_RULE, "actions": [{"type": "notify"}]}], by=alice
    )
    channel(credit_model, alice, "email", "team@example.com", min_severity="info")

    for day in range(3):
        breach(make_run, evaluate, day)

    assert [d.topic.split(":")[0] for d in Delivery.objects.all()] == ["breach"] and len(mail.outbox) == 1


def test_analysts_create_channels_and_see_a_generated_secret_once(api, alice, credit_model):
    answer = api(alice).post(
        "/api/v1/models/credit-risk/channels/",
        {"name": "ops hook", "kind": "webhook", "target": "https://ops.example.com/hook"},
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["secret"].startswith("whsec_") and answer.json()["signed"] is True
    listed = api(alice).get("/api/v1/models/credit-risk/channels/").json()["results"]
    assert "secret" not in listed[0]


def test_a_channel_target_must_suit_its_kind(api, alice, credit_model):
    bad = {"name": "x", "kind": "webhook", "target": "file:///etc/passwd"}

    assert_error(
        api(alice).post("/api/v1/models/credit-risk/channels/", bad, format="json"), 400, field="target"
    )


def test_frontline_cannot_manage_channels_or_read_deliveries(api, bob, credit_model):
    assert_error(api(bob).get("/api/v1/models/credit-risk/channels/"), 403)
    assert_error(api(bob).get("/api/v1/deliveries/"), 403)


def test_the_delivery_log_lists_status_attempts_and_errors(
    api, alice, receiver, share_policy, make_run, evaluate
):
    hook = receiver(500)
    channel(share_policy.model, alice, "webhook", hook.url, secret=SECRET, min_severity="critical")
    breach(make_run, evaluate)

    body = api(alice).get("/api/v1/deliveries/?status=failed&model=credit-risk").json()

    assert body["count"] == 2  # the serving-mode change and the event
    row = body["results"][0]
    assert (
        row["attempts"] == 1 + DELIVERY_RETRIES and row["response_code"] == 500 and row["kind"] == "webhook"
    )
