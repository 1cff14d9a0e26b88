"""Notification payloads and webhook signatures. Pure (no Django, no I/O).

One `Message` per state change (an event opened or moved on, the serving mode changed, an incident
opened, moved on or escalated) becomes, per channel kind:

- a generic webhook: Standard Webhooks style JSON ``{"type", "timestamp", "data"}`` signed with
  HMAC-SHA256 over ``"{webhook-id}.{webhook-timestamp}.{body}"``, sent with the headers ``webhook-id``,
  ``webhook-timestamp`` and ``webhook-signature: v1,<base64>``;
- a Slack incoming-webhook message (``text`` plus ``blocks``);
- a PagerDuty Events API v2 event (``trigger`` / ``acknowledge`` / ``resolve`` with a ``dedup_key``
  such as ``event-12``, so every change of one event lands on one PagerDuty alert);
- an email subject and body.

Example:
    >>> msg = Message(topic="event:1:detected", kind="event", title="Drift on credit-risk",
    ...               text="share drifted 0.5 > 0.2", severity="critical", model="credit-risk",
    ...               status="detected", dedup_key="event-1")
    >>> headers = webhook_headers("whsec_c2VjcmV0", "dw_7", 1700000000, b'{}')
    >>> headers["webhook-signature"]
    'v1,xm/jdgIAw4qEwiuda0FNz141VzQH769W56938RyYgrE='
    >>> verify_signature("whsec_c2VjcmV0", headers, b'{}', now=1700000010)
    True
    >>> pagerduty_body(msg, "R0UT1NG")["event_action"], slack_body(msg)["text"][:21]
    ('trigger', ':red_circle: Drift on')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SIGNATURE_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
EMOJI = {"info": ":large_blue_circle:", "warning": ":large_orange_circle:", "critical": ":red_circle:"}


class TransientDeliveryError(Exception):
    """A failure worth retrying: the receiver timed out, was unreachable or answered 5xx / 429."""


@dataclass(frozen=True)
class Message:
    topic: str  # the state change, unique per subject: "event:12:acknowledged"
    kind: str  # event | breach | serving_mode | incident
    title: str
    text: str
    severity: str  # info | warning | critical
    model: str  # the model's slug
    status: str  # the subject's status after the change (or the serving mode)
    dedup_key: str = ""  # groups the changes of one subject: "event-12"
    resolved: bool = False  # the subject is closed (PagerDuty resolves its alert)
    link: str = ""  # API path of the subject
    at: str = ""  # ISO time of the change
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "details": dict(self.details)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        return cls(**data)


def _secret_bytes(secret: str) -> bytes:
    """Standard Webhooks secrets are 'whsec_' + base64; any other text is used as it is."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        headers["webhook-signature"] = sign(secret, message_id, timestamp, body)
    return headers


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and one matching ``v1`` signature (there may be
    several, space-separated, while a secret is rotated)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id, timestamp = lower["webhook-id"], int(lower["webhook-timestamp"])
        offered = lower["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def webhook_body(message: Message, timestamp: int) -> bytes:
    payload = {
        "type": f"{message.kind}.{message.status}",
        "timestamp": timestamp,
        "data": message.as_dict(),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def slack_body(message: Message) -> dict[str, Any]:
    emoji = EMOJI.get(message.severity, "")
    facts = [f"*Model:* `{message.model}`", f"*Status:* {message.status}", f"*Severity:* {message.severity}"]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:2900]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "  ·  ".join(facts)}]},
    ]
    return {"text": f"{emoji} {message.title}".strip(), "blocks": blocks}


def pagerduty_action(message: Message) -> str:
    if message.resolved:
        return "resolve"
    return "acknowledge" if message.status == "acknowledged" else "trigger"


def pagerduty_body(message: Message, routing_key: str) -> dict[str, Any]:
    return {
        "routing_key": routing_key,
        "event_action": pagerduty_action(message),
        "dedup_key": message.dedup_key or message.topic,
        "payload": {
            "summary": message.title[:1024],
            "severity": message.severity if message.severity in EMOJI else "warning",
            "source": f"driftwatch/{message.model}",
            "component": message.model,
            "group": message.kind,
            "class": message.status,
            "custom_details": {"text": message.text, "link": message.link, **dict(message.details)},
        },
        "client": "Driftwatch",
    }


def email_content(message: Message) -> tuple[str, str]:
    subject = f"[Driftwatch {message.severity}] {message.title}"[:200]
    lines = [message.text, "", f"Model: {message.model}", f"Status: {message.status}"]
    if message.link:
        lines.append(f"Details: {message.link}")
    if message.at:
        lines.append(f"At: {message.at}")
    return subject, "\n".join(lines)
