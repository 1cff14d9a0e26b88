"""Notification channels, the fan-out of one message to them, and sending one delivery.

A message is fanned out inside the transaction of the change it announces (one `Delivery` per
channel, unique per topic, so a re-evaluated run never notifies twice); the sending happens after
commit, in `governance.tasks.notification_deliver`, which retries transient failures with backoff.
"""

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from drift.models import MonitoredModel
from governance.models import (
    ChannelKind,
    Delivery,
    DeliveryStatus,
    DriftEvent,
    Incident,
    NotificationChannel,
    Severity,
)
from governance.notifications import (
    PAGERDUTY_URL,
    Message,
    TransientDeliveryError,
    email_content,
    pagerduty_body,
    slack_body,
    webhook_body,
    webhook_headers,
)
from governance.policies import severity_rank
from governance.services.audit import Actor, audit_record
from monitoring_site.broker import send_each
from monitoring_site.errors import ApplicationError

DEFAULT_TIMEOUT_SECONDS = 10


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _check_target(kind: str, target: str) -> None:
    if kind == ChannelKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise _invalid("target", "an email channel needs an email address") from None
    elif kind in (ChannelKind.WEBHOOK, ChannelKind.SLACK):
        url = urlparse(target)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise _invalid("target", "must be an http(s) URL")
    elif kind == ChannelKind.PAGERDUTY and not (target.isalnum() and 20 <= len(target) <= 64):
        raise _invalid("target", "must be a PagerDuty Events v2 integration (routing) key")


def masked_target(kind: str, target: str) -> str:
    """Webhook URLs and routing keys are credentials: the audit log keeps only enough to recognise them."""
    if kind == ChannelKind.EMAIL:
        return target
    if kind == ChannelKind.PAGERDUTY:
        return f"{target[:4]}…"
    url = urlparse(target)
    return f"{url.scheme}://{url.netloc}/…"


def _channel_view(channel: NotificationChannel) -> dict[str, Any]:
    return {
        "name": channel.name,
        "kind": channel.kind,
        "target": masked_target(channel.kind, channel.target),
        "min_severity": channel.min_severity,
        "is_active": channel.is_active,
        "signed": bool(channel.secret),
    }


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@transaction.atomic
def channel_create(
    *,
    model: MonitoredModel,
    name: str,
    kind: str,
    target: str,
    actor: Actor,
    secret: str = "",
    min_severity: str = Severity.WARNING,
) -> NotificationChannel:
    """A webhook channel without a secret gets a generated one (shown once, in the answer)."""
    if kind not in ChannelKind.values:
        raise _invalid("kind", f"must be one of {', '.join(ChannelKind.values)}")
    if min_severity not in Severity.values:
        raise _invalid("min_severity", f"must be one of {', '.join(Severity.values)}")
    _check_target(kind, target)
    if kind == ChannelKind.WEBHOOK and not secret:
        secret = new_webhook_secret()
    channel = NotificationChannel.objects.create(
        model=model, name=name, kind=kind, target=target, secret=secret, min_severity=min_severity
    )
    audit_record(actor=actor, action="channel.create", obj=channel, model=model, after=_channel_view(channel))
    return channel


@transaction.atomic
def channel_update(*, channel: NotificationChannel, actor: Actor, **changes: Any) -> NotificationChannel:
    """Change name, target, secret, min_severity or is_active."""
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    before = _channel_view(channel)
    allowed = {"name", "target", "secret", "min_severity", "is_active"}
    for field, value in changes.items():
        if field in allowed:
            setattr(channel, field, value)
    if channel.min_severity not in Severity.values:
        raise _invalid("min_severity", f"must be one of {', '.join(Severity.values)}")
    _check_target(channel.kind, channel.target)
    channel.save()
    audit_record(
        actor=actor,
        action="channel.update",
        obj=channel,
        model=channel.model,
        before=before,
        after=_channel_view(channel),
    )
    return channel


def notify(
    *,
    model: MonitoredModel,
    message: Message,
    event: DriftEvent | None = None,
    incident: Incident | None = None,
    channels: Iterable[NotificationChannel] | None = None,
) -> list[Delivery]:
    """One delivery per channel (the model's active channels at or below the message's severity, or
    the given ones), sent after the surrounding transaction commits. A topic already delivered to a
    channel is skipped, so announcing the same change twice sends it once."""
    if channels is None:
        rank = severity_rank(message.severity)
        channels = [
            c
            for c in NotificationChannel.objects.filter(model=model, is_active=True)
            if severity_rank(c.min_severity) <= rank
        ]
    created = []
    for channel in channels:
        delivery, new = Delivery.objects.get_or_create(
            channel=channel,
            topic=message.topic,
            defaults={
                "event": event,
                "incident": incident,
                "message": message.as_dict(),
                "created_at": timezone.now(),
            },
        )
        if new:
            created.append(delivery)
    if created:
        from governance.tasks import notification_deliver

        ids = [d.pk for d in created]
        # A broker outage must not fail the change that notifies: unsent deliveries stay pending and
        # `deliveries_resend` picks them up.
        transaction.on_commit(lambda: send_each(notification_deliver, ids))
    return created


# A delivery still untried after this long lost its task message (the broker was down, or restarted).
RESEND_AFTER = timedelta(minutes=5)


def deliveries_resend(*, now: datetime | None = None) -> int:
    """Send again the pending deliveries nobody has tried yet; returns how many were sent."""
    from governance.tasks import notification_deliver

    cutoff = (now or timezone.now()) - RESEND_AFTER
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, attempts=0, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    unsent = send_each(notification_deliver, ids)
    return len(ids) - len(unsent)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A webhook that redirects is misconfigured; following it would turn the POST into a GET elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class DeliveryRefused(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST without following redirects; the HTTP status, or `TransientDeliveryError` (worth retrying)
    or `DeliveryRefused` (not worth it)."""
    timeout = settings.DRIFTWATCH.get("NOTIFY_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise TransientDeliveryError(f"HTTP {exc.code} from the receiver") from exc
        raise DeliveryRefused(f"HTTP {exc.code} from the receiver", exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TransientDeliveryError(f"could not reach the receiver: {exc}") from exc


def _send(delivery: Delivery) -> int | None:
    """Send one delivery; its HTTP status (None for email)."""
    channel, message = delivery.channel, Message.from_dict(delivery.message)
    json_headers = {"content-type": "application/json", "user-agent": "Driftwatch"}
    if channel.kind == ChannelKind.WEBHOOK:
        now = int(time.time())
        body = webhook_body(message, now)
        headers = webhook_headers(channel.secret, f"dw_{delivery.pk}", now, body)
        return http_post(channel.target, body, {**headers, "user-agent": "Driftwatch"})
    if channel.kind == ChannelKind.SLACK:
        return http_post(channel.target, json.dumps(slack_body(message)).encode(), json_headers)
    if channel.kind == ChannelKind.PAGERDUTY:
        url = settings.DRIFTWATCH.get("PAGERDUTY_EVENTS_URL", PAGERDUTY_URL)
        return http_post(url, json.dumps(pagerduty_body(message, channel.target)).encode(), json_headers)
    subject, text = email_content(message)
    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [channel.target])
    except OSError as exc:  # smtplib errors are OSErrors: the mail server is down or refused for now
        raise TransientDeliveryError(f"the mail server failed: {exc}") from exc
    return None


def delivery_attempt(*, delivery_id: int, final: bool = False) -> Delivery:
    """Try one delivery once. A transient failure raises `TransientDeliveryError` (the task retries
    it) unless this was the `final` attempt, which records the delivery as failed."""
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return delivery  # already sent or given up: a duplicate task message
    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        code = _send(delivery)
    except TransientDeliveryError as exc:
        code = getattr(exc.__cause__, "code", None)
        if not final:
            Delivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:2000], response_code=code)
            raise
        _finish(delivery, DeliveryStatus.FAILED, code, f"gave up after retries: {exc}")
    except DeliveryRefused as exc:
        _finish(delivery, DeliveryStatus.FAILED, exc.code, str(exc))
    else:
        _finish(delivery, DeliveryStatus.SENT, code, "")
    delivery.refresh_from_db()
    return delivery


def _finish(delivery: Delivery, status: str, code: int | None, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        response_code=code,
        last_error=error[:2000],
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
    )
