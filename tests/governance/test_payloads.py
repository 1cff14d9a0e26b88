"""Notification payloads and signatures, and the worked examples of the pure modules. No database."""

import doctest
import json

import pytest

from governance import notifications, policies, signals
from governance.notifications import (
    Message,
    email_content,
    pagerduty_body,
    sign,
    slack_body,
    verify_signature,
    webhook_body,
    webhook_headers,
)

MSG = Message(
    topic="event:7:acknowledged",
    kind="event",
    title="credit-risk: data_drift.share_drifted > 0.2",
    text="alice: detected → acknowledged.",
    severity="warning",
    model="credit-risk",
    status="acknowledged",
    dedup_key="event-7",
    link="/api/v1/events/7/",
    details={"event_id": 7},
)


@pytest.mark.parametrize("module", [signals, policies, notifications])
def test_the_worked_examples_in_the_docstrings_hold(module):
    assert doctest.testmod(module).failed == 0


def test_a_signature_covers_id_timestamp_and_body():
    body = webhook_body(MSG, 1_800_000_000)
    headers = webhook_headers("whsec_c2VjcmV0", "dw_1", 1_800_000_000, body)

    assert verify_signature("whsec_c2VjcmV0", headers, body, now=1_800_000_100)
    assert not verify_signature("whsec_c2VjcmV0", headers, body + b" ", now=1_800_000_100)
    assert not verify_signature("whsec_c2VjcmV0", {**headers, "webhook-id": "dw_2"}, body, now=1_800_000_100)
    assert not verify_signature("whsec_c2VjcmV0", headers, body, now=1_800_000_000 + 301)  # replayed late


def test_a_receiver_accepts_any_of_several_signatures_while_a_secret_rotates():
    body = b"{}"
    old, new = sign("old-secret", "dw_1", 100, body), sign("new-secret", "dw_1", 100, body)
    headers = {"webhook-id": "dw_1", "webhook-timestamp": "100", "webhook-signature": f"{old} {new}"}

    assert verify_signature("new-secret", headers, body, now=100)


def test_the_webhook_body_is_typed_by_kind_and_status():
    payload = json.loads(webhook_body(MSG, 5))

    assert payload["type"] == "event.acknowledged" and payload["timestamp"] == 5
    assert payload["data"]["dedup_key"] == "event-7" and payload["data"]["details"] == {"event_id": 7}


def test_slack_has_a_fallback_text_and_blocks():
    body = slack_body(MSG)

    assert body["text"] == ":large_orange_circle: credit-risk: data_drift.share_drifted > 0.2"
    assert body["blocks"][1]["text"]["text"] == "alice: detected → acknowledged."
    assert "`credit-risk`" in body["blocks"][2]["elements"][0]["text"]


@pytest.mark.parametrize(
    ("status", "resolved", "action"),
    [("detected", False, "trigger"), ("acknowledged", False, "acknowledge"), ("resolved", True, "resolve")],
)
def test_pagerduty_maps_the_state_to_an_event_action(status, resolved, action):
    message = Message(**{**MSG.as_dict(), "status": status, "resolved": resolved})

    body = pagerduty_body(message, "KEY")

    assert body["event_action"] == action and body["dedup_key"] == "event-7" and body["routing_key"] == "KEY"
    assert set(body["payload"]) >= {"summary", "severity", "source", "custom_details"}


def test_email_has_a_subject_with_the_severity_and_a_plain_body():
    subject, text = email_content(MSG)

    assert subject == "[Driftwatch warning] credit-risk: data_drift.share_drifted > 0.2"
    assert "Details: /api/v1/events/7/" in text
