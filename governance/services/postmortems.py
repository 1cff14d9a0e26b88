"""Postmortems: draft → in review → published (only admins publish), blameless write-ups of incidents
with facts computed from the record, and their action items."""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from drift.roles import ADMIN, ANALYST, FRONTLINE, role_at_least, user_role
from governance.models import (
    ActionItem,
    ActionItemStatus,
    Incident,
    IncidentStatus,
    Postmortem,
    PostmortemStatus,
)
from governance.postmortem_facts import postmortem_facts
from governance.services.audit import Actor, audit_record
from monitoring_site.errors import ApplicationError

P = PostmortemStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    P.DRAFT: (P.IN_REVIEW,),
    P.IN_REVIEW: (P.DRAFT, P.PUBLISHED),
    P.PUBLISHED: (),
}
TEXT_FIELDS = (
    "title",
    "summary",
    "impact_notes",
    "trigger",
    "root_cause",
    "detection",
    "resolution",
    "mitigation",
    "went_well",
    "went_badly",
    "lucky",
)
# What a review needs written, and what publishing needs on top.
FOR_REVIEW = ("summary", "root_cause")
FOR_PUBLISHING = ("summary", "trigger", "root_cause", "resolution")
MAX_TEXT = 20_000


def _view(pm: Postmortem) -> dict[str, Any]:
    return {"status": pm.status, **{f: getattr(pm, f) for f in TEXT_FIELDS}}


def _need(pm: Postmortem, fields: tuple[str, ...], what: str) -> None:
    missing = [f for f in fields if not getattr(pm, f).strip()]
    if missing:
        raise ApplicationError(
            f"{what} needs {', '.join(missing)} written first.",
            errors=[{"field": f, "message": "required"} for f in missing],
        )


def _refresh_facts(pm: Postmortem) -> None:
    now = timezone.now()
    pm.facts, pm.facts_at = postmortem_facts(pm.incident, now=now), now


@transaction.atomic
def postmortem_create(*, incident: Incident, by: Any, title: str = "") -> Postmortem:
    """A draft for the incident, with its facts computed now (one postmortem per incident)."""
    if not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may write a postmortem.", status=403)
    if Postmortem.objects.filter(incident=incident).exists():
        raise ApplicationError(f"Incident #{incident.pk} already has a postmortem.", status=409)
    actor, now = Actor.of(by), timezone.now()
    pm = Postmortem(
        incident=incident,
        title=(title or f"Postmortem: {incident.title}")[:300],
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    _refresh_facts(pm)
    try:
        with transaction.atomic():
            pm.save()
    except IntegrityError:  # a concurrent request created it first
        raise ApplicationError(f"Incident #{incident.pk} already has a postmortem.", status=409) from None
    audit_record(actor=actor, action="postmortem.create", obj=pm, model=incident.model, after=_view(pm))
    return pm


def _locked(pm: Postmortem) -> Postmortem:
    return Postmortem.objects.select_for_update().select_related("incident__model").get(pk=pm.pk)


@transaction.atomic
def postmortem_update(*, postmortem: Postmortem, by: Any, **changes: Any) -> Postmortem:
    """Edit the narrative fields of a draft or a postmortem in review; a published one is final."""
    pm = _locked(postmortem)
    if pm.status == P.PUBLISHED:
        raise ApplicationError("A published postmortem is final; add action items instead.", status=409)
    before = _view(pm)
    for field in TEXT_FIELDS:
        if field in changes and changes[field] is not None:
            setattr(pm, field, str(changes[field])[: 300 if field == "title" else MAX_TEXT])
    after = _view(pm)
    if after != before:
        pm.updated_at = timezone.now()
        pm.save()
        changed = {k: after[k] for k in after if after[k] != before[k]}
        audit_record(
            actor=Actor.of(by),
            action="postmortem.update",
            obj=pm,
            model=pm.incident.model,
            before={k: before[k] for k in changed},
            after=changed,
        )
    return pm


@transaction.atomic
def postmortem_refresh(*, postmortem: Postmortem, by: Any) -> Postmortem:
    """Recompute the facts from the record (not once published: they are frozen then)."""
    pm = _locked(postmortem)
    if pm.status == P.PUBLISHED:
        raise ApplicationError("A published postmortem's facts are frozen.", status=409)
    _refresh_facts(pm)
    pm.updated_at = timezone.now()
    pm.save(update_fields=["facts", "facts_at", "updated_at"])
    audit_record(
        actor=Actor.of(by),
        action="postmortem.refresh",
        obj=pm,
        model=pm.incident.model,
        after={"facts_at": pm.facts_at.isoformat()},
    )
    return pm


@transaction.atomic
def postmortem_transition(*, postmortem: Postmortem, to: str, by: Any, note: str = "") -> Postmortem:
    """Submit for review, send back to draft, or publish (admins only, once the incident is resolved).
    Submitting and publishing recompute the facts; publishing freezes them."""
    pm = _locked(postmortem)
    allowed = TRANSITIONS.get(pm.status, ())
    if to not in allowed:
        options = ", ".join(allowed) or "none: it is published"
        raise ApplicationError(
            f"A postmortem in {pm.status} cannot move to '{str(to)[:40]}' (allowed: {options}).",
            errors=[{"field": "to", "message": f"allowed from {pm.status}: {options}"}],
        )
    if to == P.PUBLISHED:
        if not role_at_least(user_role(by), ADMIN):
            raise ApplicationError("Only an admin may publish a postmortem.", status=403)
        if pm.incident.status != IncidentStatus.RESOLVED:
            raise ApplicationError(
                f"Incident #{pm.incident_id} is {pm.incident.status}; publish once it is resolved.",
                status=409,
            )
        _need(pm, FOR_PUBLISHING, "Publishing")
    elif to == P.IN_REVIEW:
        _need(pm, FOR_REVIEW, "A review")
    actor, before = Actor.of(by), pm.status
    if to in (P.IN_REVIEW, P.PUBLISHED):
        _refresh_facts(pm)
    pm.status, pm.updated_at = to, timezone.now()
    if to == P.PUBLISHED:
        pm.published_at, pm.published_by = pm.updated_at, actor.user
    pm.save()
    audit_record(
        actor=actor,
        action="postmortem.transition",
        obj=pm,
        model=pm.incident.model,
        before={"status": before},
        after={"status": to},
        reason=note,
    )
    return pm


def _owner(owner_id: Any) -> Any:
    if owner_id is None:
        return None
    user = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if user is None or not role_at_least(user_role(user), FRONTLINE):
        raise ApplicationError(
            f"No active user with id {owner_id} and a Driftwatch role.",
            errors=[{"field": "owner", "message": "unknown user, or one without a role"}],
        )
    return user


def _item_view(item: ActionItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "owner": item.owner_id,
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "status": item.status,
    }


@transaction.atomic
def action_item_add(
    *, postmortem: Postmortem, title: str, by: Any, owner: int | None = None, due_date: date | None = None
) -> ActionItem:
    """A follow-up with an owner and a due date (also after publishing: the work outlives the write-up)."""
    title = (title or "").strip()
    if not title:
        raise ApplicationError(
            "An action item needs a title.", errors=[{"field": "title", "message": "required"}]
        )
    now = timezone.now()
    item = ActionItem.objects.create(
        postmortem=postmortem,
        title=title[:300],
        owner=_owner(owner),
        due_date=due_date,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=Actor.of(by),
        action="action_item.create",
        obj=item,
        model=postmortem.incident.model,
        after={**_item_view(item), "postmortem": postmortem.pk},
    )
    return item


@transaction.atomic
def action_item_update(*, item: ActionItem, by: Any, **changes: Any) -> ActionItem:
    """Change title, owner (a user id or None), due_date or status."""
    item = (
        ActionItem.objects.select_for_update().select_related("postmortem__incident__model").get(pk=item.pk)
    )
    before = _item_view(item)
    if "status" in changes:
        if changes["status"] not in ActionItemStatus.values:
            raise ApplicationError(
                "Unknown action item status.",
                errors=[{"field": "status", "message": f"one of {', '.join(ActionItemStatus.values)}"}],
            )
        item.status = changes["status"]
        item.done_at = timezone.now() if item.status == ActionItemStatus.DONE else None
    if "owner" in changes:
        item.owner = _owner(changes["owner"])
    if "due_date" in changes:
        item.due_date = changes["due_date"]
    if changes.get("title"):
        item.title = str(changes["title"]).strip()[:300]
    after = _item_view(item)
    if after != before:
        item.updated_at = timezone.now()
        item.save()
        audit_record(
            actor=Actor.of(by),
            action="action_item.update",
            obj=item,
            model=item.postmortem.incident.model,
            before=before,
            after=after,
        )
    return item
