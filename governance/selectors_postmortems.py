"""Postmortem reads, scoped to the models the caller may see."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, Q, QuerySet

from drift.roles import ADMIN, ANALYST, FRONTLINE
from drift.selectors import models_visible_to
from governance.models import ActionItem, Incident, Postmortem, PostmortemStatus
from governance.selectors import choice_param, model_param
from monitoring_site.errors import NotFound


def postmortems_list(
    principal: Any, *, model: str | None = None, status: str | None = None
) -> QuerySet[Postmortem]:
    qs = Postmortem.objects.filter(incident__model__in=models_visible_to(principal)).select_related(
        "incident", "incident__model", "created_by", "published_by"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(incident__model=found)
    if choice_param(status, PostmortemStatus, "status"):
        qs = qs.filter(status=status)
    items = ActionItem.objects.select_related("owner").order_by("id")
    return qs.prefetch_related(Prefetch("action_items", queryset=items)).order_by("-created_at", "-id")


def postmortem_for(principal: Any, postmortem_id: int) -> Postmortem:
    pm = postmortems_list(principal).filter(pk=postmortem_id).first()
    if pm is None:
        raise NotFound(f"No postmortem with id {postmortem_id}.", field="id")
    return pm


def action_item_for(principal: Any, item_id: int) -> ActionItem:
    item = (
        ActionItem.objects.filter(pk=item_id, postmortem__incident__model__in=models_visible_to(principal))
        .select_related("owner", "postmortem__incident__model")
        .first()
    )
    if item is None:
        raise NotFound(f"No action item with id {item_id}.", field="id")
    return item


def incidents_without_postmortem(principal: Any) -> QuerySet[Incident]:
    """Incidents the caller may see that have no postmortem yet (resolved first, newest first)."""
    return (
        Incident.objects.filter(model__in=models_visible_to(principal), postmortem__isnull=True)
        .select_related("model")
        .order_by(F("resolved_at").desc(nulls_last=True), "-opened_at", "-id")
    )


def action_item_owners() -> QuerySet[Any]:
    """People who may own an action item: active, with the frontline role or above."""
    roles = Q(is_superuser=True) | Q(groups__name__in=[FRONTLINE, ANALYST, ADMIN])
    return get_user_model().objects.filter(roles, is_active=True).distinct().order_by("username")
