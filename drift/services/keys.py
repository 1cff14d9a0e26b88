"""Integration keys: created once (the plain key is returned only then), looked up by hash."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import IntegrationKey, MonitoredModel
from monitoring_site.errors import ApplicationError

INTEGRATION_KEY_PREFIX = "dwi_"
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def integration_key_create(
    *, model: MonitoredModel, name: str, created_by: Any = None
) -> tuple[IntegrationKey, str]:
    """Create a key for one model; returns the record and the plain key, which is never stored."""
    name = name.strip()
    limit = IntegrationKey._meta.get_field("name").max_length
    if not name or len(name) > limit:
        raise ApplicationError(
            f"A key needs a name of 1 to {limit} characters saying what uses it.",
            errors=[{"field": "name", "message": f"1 to {limit} characters"}],
        )
    plain = INTEGRATION_KEY_PREFIX + secrets.token_urlsafe(32)
    key = IntegrationKey.objects.create(
        model=model,
        name=name,
        key_hash=_hash(plain),
        prefix=plain[: len(INTEGRATION_KEY_PREFIX) + 6],
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return key, plain


def integration_key_authenticate(*, key: str) -> IntegrationKey | None:
    found = (
        IntegrationKey.objects.select_related("model")
        .filter(key_hash=_hash(key), revoked_at__isnull=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > _LAST_USED_RESOLUTION:
        IntegrationKey.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    return found


def integration_key_revoke(*, key: IntegrationKey) -> IntegrationKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
