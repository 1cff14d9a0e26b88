"""Runbook pages: the list (filters, pages, CSV, a form to write one) and one runbook rendered from its
Markdown (safely: `governance.markdown`), with its version history, any older version (`?version=N`),
and the analyst's edit (a new version, with a reason) and retire forms. Writes go through
`governance.services.runbooks`."""

import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from drift.selectors import models_visible_to
from drift.views.access import page_ctx, role_required
from governance import selectors_runbooks
from governance.models import Runbook
from governance.services.runbooks import MAX_BODY, MAX_TITLE, runbook_create, runbook_retire, runbook_update
from governance.views.support import (
    chosen_model,
    csv_download,
    csv_query,
    error_status,
    int_field,
    paged,
    posts_need,
    refusal,
    run_action,
    text_field,
)
from monitoring_site.errors import ApplicationError

# The API's slug rule (RunbookCreateSerializer): the service trusts its callers to have checked it.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _latest(runbook: Runbook) -> Any:
    return next(iter(runbook.versions.all()))  # prefetched newest first


# --- the list ---------------------------------------------------------------------------------------


def _csv(found: Any) -> HttpResponse:
    header = ["id", "slug", "title", "model", "version", "active", "updated at"]
    rows = (
        [
            rb.pk,
            rb.slug,
            _latest(rb).title,
            getattr(rb.model, "slug", ""),
            _latest(rb).number,
            "yes" if rb.is_active else "no",
            rb.updated_at.isoformat(),
        ]
        for rb in found
    )
    return csv_download("runbooks", header, rows)


def _list(request: HttpRequest, refused: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    model, retired = request.GET.get("model") or None, request.GET.get("retired") == "1"
    filter_error = ""
    try:
        found = selectors_runbooks.runbooks_list(request.user, model=model, include_retired=retired)
    except ApplicationError as exc:
        found, filter_error, status = Runbook.objects.none(), exc.message, 400
    found = found.order_by("slug")
    if request.GET.get("format") == "csv" and not filter_error:
        return _csv(found)
    listing = paged(request, found)
    ctx = {
        **listing,
        "rows": [(rb, _latest(rb)) for rb in listing["page"]],
        "filters": {"model": model, "retired": retired},
        "filter_error": filter_error,
        "filtered": bool(model or retired),
        "models": models_visible_to(request.user).order_by("name"),
        "csv": csv_query(request),
        "refused": refused,
        "form": request.POST if refused else {},
        "max_title": MAX_TITLE,
    }
    return render(request, "governance/runbooks.html", page_ctx(request, ctx, "runbooks"), status=status)


def _create(request: HttpRequest) -> Runbook:
    data = request.POST
    slug = text_field(data, "slug", required=True, limit=80).strip()
    if not SLUG.match(slug):
        raise ApplicationError(
            "slug: lower-case letters, digits and hyphens, starting with a letter or digit.",
            errors=[{"field": "slug", "message": "lower-case letters, digits and hyphens"}],
        )
    return runbook_create(
        slug=slug,
        title=text_field(data, "title", required=True, limit=MAX_TITLE),
        body=text_field(data, "body", required=True, limit=MAX_BODY),
        by=request.user,
        model=chosen_model(request, data.get("model", "")),
        reason=text_field(data, "reason", limit=2000),
    )


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def runbooks_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    try:
        runbook = _create(request)
    except ApplicationError as exc:
        return _list(request, refusal(exc, "create"), error_status(exc))
    messages.success(request, f"Runbook “{runbook.slug}” written (version 1).")
    return redirect("governance:runbook", pk=runbook.pk)


# --- one runbook ------------------------------------------------------------------------------------


def _edit(request: HttpRequest, runbook: Runbook) -> str:
    data = request.POST
    version = runbook_update(
        runbook=runbook,
        body=text_field(data, "body", required=True, limit=MAX_BODY),
        reason=text_field(data, "reason", required=True, limit=2000),
        title=text_field(data, "title", required=True, limit=MAX_TITLE),
        by=request.user,
    )
    return f"Saved as version {version.number}; the earlier versions stay readable."


def _retire(request: HttpRequest, runbook: Runbook) -> str:
    runbook_retire(runbook=runbook, by=request.user, reason=text_field(request.POST, "reason", limit=2000))
    return "Runbook retired: it is no longer offered for new links; its versions stay readable."


ACTIONS: dict[str, Callable[[HttpRequest, Runbook], str]] = {"edit": _edit, "retire": _retire}


def _detail(
    request: HttpRequest, runbook: Runbook, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    versions = list(runbook.versions.all())
    current, shown, version_error = versions[0], versions[0], ""
    try:
        wanted = int_field(request.GET, "version", low=1, high=2**31 - 1)
    except ApplicationError as exc:
        wanted, version_error, status = None, exc.message, 400
    if wanted is not None:
        shown = selectors_runbooks.runbook_version_for(runbook, wanted)  # unknown → 404 page
    editing = refused is not None and refused["action"] == "edit"
    ctx = {
        "runbook": runbook,
        "current": current,
        "shown": shown,
        "versions": versions,
        "version_error": version_error,
        "edit_title": request.POST.get("title", shown.title) if editing else shown.title,
        "edit_body": request.POST.get("body", shown.body) if editing else shown.body,
        "edit_reason": request.POST.get("reason", "") if editing else "",
        "refused": refused,
        "max_title": MAX_TITLE,
    }
    return render(request, "governance/runbook.html", page_ctx(request, ctx, "runbooks"), status=status)


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def runbook_page(request: HttpRequest, pk: int) -> HttpResponse:
    runbook = selectors_runbooks.runbook_for(request.user, pk)
    if request.method == "GET":
        return _detail(request, runbook)
    return run_action(
        request,
        runbook,
        ACTIONS,
        reload=lambda: selectors_runbooks.runbook_for(request.user, pk),
        detail=_detail,
        done_url=reverse("governance:runbook", args=[pk]),
    )
