"""Runbooks: create, edit (a new version each time, the old ones stay), deactivate, link to policies
and incidents."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import MonitoredModel
from governance.models import Incident, Policy, Runbook, RunbookVersion, TimelineEntry, TimelineKind
from governance.services.audit import Actor, audit_record
from monitoring_site.errors import ApplicationError

MAX_TITLE = 200
MAX_BODY = 100_000


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _text(value: Any, field: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise _invalid(field, f"required, at most {limit:,} characters")
    return text


def latest_runbook_version(runbook: Runbook) -> RunbookVersion:
    return runbook.versions.order_by("-number").first()  # type: ignore[return-value]


@transaction.atomic
def runbook_create(
    *,
    slug: str,
    title: str,
    body: str,
    by: Any,
    model: MonitoredModel | None = None,
    reason: str = "",
) -> Runbook:
    title, body = _text(title, "title", MAX_TITLE), _text(body, "body", MAX_BODY)
    if Runbook.objects.filter(slug=slug).exists():
        raise ApplicationError(
            f"A runbook with slug '{slug}' already exists.",
            errors=[{"field": "slug", "message": "already taken"}],
            status=409,
        )
    actor, now = Actor.of(by), timezone.now()
    runbook = Runbook.objects.create(slug=slug, model=model, created_at=now, updated_at=now)
    RunbookVersion.objects.create(
        runbook=runbook,
        number=1,
        title=title,
        body=body,
        reason=reason,
        created_by=actor.user,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="runbook.create",
        obj=runbook,
        model=model,
        after={"slug": slug, "version": 1, "title": title},
        reason=reason,
    )
    return runbook


@transaction.atomic
def runbook_update(
    *, runbook: Runbook, body: str, reason: str, by: Any, title: str | None = None
) -> RunbookVersion:
    """A new version (the earlier ones stay readable); an edit needs a reason."""
    runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
    if not runbook.is_active:
        raise ApplicationError("This runbook was retired; create a new one instead.", status=409)
    reason = _text(reason, "reason", 2000)
    current = latest_runbook_version(runbook)
    title = current.title if title is None else _text(title, "title", MAX_TITLE)
    body = _text(body, "body", MAX_BODY)
    actor, now = Actor.of(by), timezone.now()
    version = RunbookVersion.objects.create(
        runbook=runbook,
        number=current.number + 1,
        title=title,
        body=body,
        reason=reason,
        created_by=actor.user,
        created_at=now,
    )
    runbook.updated_at = now
    runbook.save(update_fields=["updated_at"])
    audit_record(
        actor=actor,
        action="runbook.update",
        obj=runbook,
        model=runbook.model,
        before={"version": current.number, "title": current.title},
        after={"version": version.number, "title": title},
        reason=reason,
    )
    return version


@transaction.atomic
def runbook_retire(*, runbook: Runbook, by: Any, reason: str = "") -> Runbook:
    """Stop offering the runbook for new links; its versions and existing links stay."""
    runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
    if runbook.is_active:
        runbook.is_active, runbook.updated_at = False, timezone.now()
        runbook.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=Actor.of(by),
            action="runbook.retire",
            obj=runbook,
            model=runbook.model,
            before={"is_active": True},
            after={"is_active": False},
            reason=reason,
        )
    return runbook


def check_linkable(runbook: Runbook | None, model: MonitoredModel) -> None:
    """A policy or incident may link an active runbook that is shared or written for its model."""
    if runbook is None:
        return
    if not runbook.is_active:
        raise _invalid("runbook", "this runbook was retired")
    if runbook.model_id not in (None, model.pk):
        raise _invalid("runbook", "written for another model")


@transaction.atomic
def policy_link_runbook(*, policy: Policy, runbook: Runbook | None, by: Any, reason: str = "") -> Policy:
    """Point the policy at its runbook (or at none); its incidents link the runbook when they open."""
    policy = Policy.objects.select_for_update().select_related("model").get(pk=policy.pk)
    check_linkable(runbook, policy.model)
    before = policy.runbook_id
    if before == getattr(runbook, "pk", None):
        return policy
    policy.runbook = runbook
    policy.save(update_fields=["runbook", "updated_at"])
    audit_record(
        actor=Actor.of(by),
        action="policy.runbook",
        obj=policy,
        model=policy.model,
        before={"runbook": before},
        after={"runbook": getattr(runbook, "pk", None)},
        reason=reason,
    )
    return policy


def incident_runbook_note(incident: Incident, runbook: Runbook, actor: Actor) -> None:
    """Write on the incident's timeline which runbook (and which version of it) applies."""
    version = latest_runbook_version(runbook)
    TimelineEntry.objects.create(
        incident=incident,
        at=timezone.now(),
        kind=TimelineKind.NOTE,
        text=f"Runbook: {version.title} ({runbook.slug} v{version.number}).",
        author=actor.user,
        actor=actor.name,
    )
