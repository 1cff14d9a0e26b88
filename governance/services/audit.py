"""The audit log's only writer, and who an actor is."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import MonitoredModel
from governance.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a person (`user`) or a machine (`name` such as 'policy:3')."""

    name: str
    user: Any = None

    @classmethod
    def of(cls, principal: Any) -> "Actor":
        """A request's principal: a user, an integration key (`IntegrationPrincipal`) or an Actor."""
        if isinstance(principal, Actor):
            return principal
        if getattr(principal, "is_integration", False):
            return cls(principal.username)
        if getattr(principal, "pk", None):
            return cls(principal.get_username(), principal)
        raise ValueError(f"not an actor: {principal!r}")

    @classmethod
    def policy(cls, policy_id: int) -> "Actor":
        return cls(f"policy:{policy_id}")

    @classmethod
    def system(cls, task: str) -> "Actor":
        return cls(f"system:{task}")


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    model: MonitoredModel | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry. Must run inside the transaction of the change it records, so that a change
    and its entry are stored together or not at all."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=actor.user,
        actor=actor.name[:200],
        action=action,
        object_type=type(obj)._meta.model_name if hasattr(obj, "_meta") else str(obj),
        object_id=str(getattr(obj, "pk", "") or ""),
        model=model,
        before=before,
        after=after,
        reason=reason,
    )
