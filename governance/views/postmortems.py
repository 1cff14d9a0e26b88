"""Postmortem pages: the list (filters, pages, CSV, a form to start one) and one blameless postmortem
with its facts, its narrative, its action items, and the analyst's forms. Writes go through
`governance.services.postmortems`, which decides what is allowed (only admins publish; a published
postmortem is final, its action items carry on)."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from drift.roles import ADMIN, role_at_least, user_role
from drift.selectors import models_visible_to
from drift.views.access import page_ctx, role_required
from governance import selectors, selectors_postmortems
from governance.models import ActionItemStatus, Postmortem, PostmortemStatus
from governance.services.postmortems import (
    MAX_TEXT,
    TEXT_FIELDS,
    TRANSITIONS,
    action_item_add,
    action_item_update,
    postmortem_create,
    postmortem_refresh,
    postmortem_transition,
    postmortem_update,
)
from governance.views.support import (
    csv_download,
    csv_query,
    date_field,
    error_status,
    int_field,
    optional_url,
    paged,
    posts_need,
    refusal,
    run_action,
    text_field,
)
from monitoring_site.errors import ApplicationError

# What each narrative section asks of its writer; the sections are the service's TEXT_FIELDS, so a field
# the service learns to accept appears on the form (labelled by its name until it gets a label here).
LABELS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "What happened, in two or three sentences."),
    "impact_notes": ("Impact", "Impact beyond the computed numbers: who noticed, what it cost."),
    "trigger": ("Trigger", "What set it off."),
    "root_cause": ("Causes", "Why it could happen: conditions and systems, not people."),
    "detection": ("Detection", "How it was noticed, and how it could be noticed sooner."),
    "resolution": ("Resolution", "What ended it."),
    "mitigation": ("Mitigation", "Mitigations used, beyond those on the record."),
    "went_well": ("What went well", ""),
    "went_badly": ("What went badly", ""),
    "lucky": ("Where we were lucky", ""),
}
SECTIONS = tuple(
    (f, *LABELS.get(f, (f.replace("_", " ").capitalize(), ""))) for f in TEXT_FIELDS if f != "title"
)
MOVE_LABELS = {
    PostmortemStatus.IN_REVIEW: "Submit for review",
    PostmortemStatus.DRAFT: "Send back to draft",
    PostmortemStatus.PUBLISHED: "Publish",
}


# --- the list ---------------------------------------------------------------------------------------


def _open_items(pm: Postmortem) -> int:
    done = (ActionItemStatus.DONE, ActionItemStatus.WONT_DO)
    return sum(1 for item in pm.action_items.all() if item.status not in done)


def _csv(found: Any) -> HttpResponse:
    header = [
        "id",
        "title",
        "model",
        "incident",
        "status",
        "created by",
        "created at",
        "published at",
        "open action items",
    ]
    rows = (
        [
            pm.pk,
            pm.title,
            pm.incident.model.slug,
            pm.incident_id,
            pm.status,
            getattr(pm.created_by, "username", ""),
            pm.created_at.isoformat(),
            pm.published_at.isoformat() if pm.published_at else "",
            _open_items(pm),
        ]
        for pm in found.iterator(chunk_size=500)
    )
    return csv_download("postmortems", header, rows)


def _list(request: HttpRequest, refused: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    filters = {"model": request.GET.get("model") or None, "status": request.GET.get("status") or None}
    filter_error = ""
    try:
        found = selectors_postmortems.postmortems_list(request.user, **filters)
    except ApplicationError as exc:
        found, filter_error, status = Postmortem.objects.none(), exc.message, 400
    if request.GET.get("format") == "csv" and not filter_error:
        return _csv(found)
    ctx = {
        **paged(request, found),
        "rows": [],
        "filters": filters,
        "filter_error": filter_error,
        "filtered": any(filters.values()),
        "models": models_visible_to(request.user).order_by("name"),
        "statuses": PostmortemStatus.choices,
        "csv": csv_query(request),
        "incidents": selectors_postmortems.incidents_without_postmortem(request.user)[:200],
        "refused": refused,
        "form": request.POST if refused else {},
    }
    ctx["rows"] = [(pm, _open_items(pm)) for pm in ctx["page"]]
    return render(
        request, "governance/postmortems.html", page_ctx(request, ctx, "postmortems"), status=status
    )


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def postmortems_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    try:
        incident_id = int_field(request.POST, "incident", low=1, high=2**31 - 1)
        if incident_id is None:
            raise ApplicationError(
                "incident: choose the incident to write about.",
                errors=[{"field": "incident", "message": "required"}],
            )
        incident = selectors.incident_for(request.user, incident_id)
        title = text_field(request.POST, "title", limit=300).strip()
        pm = postmortem_create(incident=incident, by=request.user, title=title)
    except ApplicationError as exc:
        return _list(request, refusal(exc, "create"), error_status(exc))
    messages.success(request, f"Draft postmortem of incident #{incident.pk} started.")
    return redirect("governance:postmortem", pk=pm.pk)


# --- one postmortem ---------------------------------------------------------------------------------


def _edit(request: HttpRequest, pm: Postmortem) -> str:
    changes = {
        field: text_field(request.POST, field, limit=300 if field == "title" else MAX_TEXT)
        for field in TEXT_FIELDS
        if field in request.POST
    }
    if "title" in changes and not changes["title"].strip():
        raise ApplicationError("title: required", errors=[{"field": "title", "message": "required"}])
    postmortem_update(postmortem=pm, by=request.user, **changes)
    return "Postmortem saved."


def _refresh(request: HttpRequest, pm: Postmortem) -> str:
    postmortem_refresh(postmortem=pm, by=request.user)
    return "Facts recomputed from the record."


def _move(request: HttpRequest, pm: Postmortem) -> str:
    to = text_field(request.POST, "to", required=True, limit=40)
    moved = postmortem_transition(
        postmortem=pm, to=to, by=request.user, note=text_field(request.POST, "note", limit=MAX_TEXT)
    )
    return f"The postmortem is now {moved.get_status_display().lower()}."


def _item_add(request: HttpRequest, pm: Postmortem) -> str:
    item = action_item_add(
        postmortem=pm,
        title=text_field(request.POST, "title", required=True, limit=300),
        by=request.user,
        owner=int_field(request.POST, "owner", low=1, high=2**31 - 1),
        due_date=date_field(request.POST, "due_date"),
    )
    return f"Action item “{item.title}” added."


def _item_status(request: HttpRequest, pm: Postmortem) -> str:
    item_id = int_field(request.POST, "item", low=1, high=2**31 - 1) or 0
    item = selectors_postmortems.action_item_for(request.user, item_id)
    if item.postmortem_id != pm.pk:
        raise ApplicationError(
            f"Action item #{item_id} belongs to another postmortem.",
            errors=[{"field": "item", "message": "not on this postmortem"}],
        )
    status = text_field(request.POST, "status", required=True, limit=20)
    changed = action_item_update(item=item, by=request.user, status=status)
    return f"“{changed.title}” is now {changed.get_status_display().lower()}."


ACTIONS: dict[str, Callable[[HttpRequest, Postmortem], str]] = {
    "edit": _edit,
    "refresh": _refresh,
    "transition": _move,
    "item-add": _item_add,
    "item-status": _item_status,
}


def _detail(
    request: HttpRequest, pm: Postmortem, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    facts = pm.facts or {}
    editing = refused is not None and refused["action"] == "edit"
    values = {f: request.POST.get(f, getattr(pm, f)) if editing else getattr(pm, f) for f in TEXT_FIELDS}
    is_admin = role_at_least(user_role(request.user), ADMIN)
    moves = [
        {"to": to, "label": MOVE_LABELS.get(to, to), "allowed": to != PostmortemStatus.PUBLISHED or is_admin}
        for to in TRANSITIONS.get(pm.status, ())
    ]
    ctx = {
        "pm": pm,
        "published": pm.status == PostmortemStatus.PUBLISHED,
        "facts": facts,
        "detection": facts.get("detection") or {},
        "impact": facts.get("impact") or {},
        "ml": facts.get("ml") or {},
        "timeline": facts.get("timeline") or [],
        "sections": [(f, label, hint, getattr(pm, f), values[f]) for f, label, hint in SECTIONS],
        "unwritten": [label.lower() for f, label, _ in SECTIONS if not getattr(pm, f).strip()],
        "title_value": values["title"],
        "moves": moves,
        "items": list(pm.action_items.all()),
        "item_statuses": ActionItemStatus.choices,
        "owners": selectors_postmortems.action_item_owners(),
        "incident_url": optional_url("governance:incident", pm.incident_id),
        "refused": refused,
        "form": request.POST if refused else {},
    }
    return render(request, "governance/postmortem.html", page_ctx(request, ctx, "postmortems"), status=status)


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def postmortem_page(request: HttpRequest, pk: int) -> HttpResponse:
    pm = selectors_postmortems.postmortem_for(request.user, pk)
    if request.method == "GET":
        return _detail(request, pm)
    return run_action(
        request,
        pm,
        ACTIONS,
        reload=lambda: selectors_postmortems.postmortem_for(request.user, pk),
        detail=_detail,
        done_url=reverse("governance:postmortem", args=[pk]),
    )
