"""Retraining request pages: the list (filters, pages, CSV, the analyst's form to ask for retraining)
and one request with the moves `governance.services.retraining` allows from its status (accept calls
the model's pipeline after commit; reject needs a note; completed may name the version produced)."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from drift.selectors import models_visible_to, version_for
from drift.views.access import page_ctx, role_required
from governance import selectors, selectors_retraining
from governance.models import RetrainingRequest, RetrainingStatus
from governance.services.retraining import (
    MAX_TEXT,
    TRANSITIONS,
    retraining_request_create,
    retraining_request_transition,
)
from governance.views.support import (
    csv_download,
    csv_query,
    error_status,
    int_field,
    optional_url,
    paged,
    posts_need,
    refusal,
    required_model,
    text_field,
)
from monitoring_site.errors import ApplicationError

R = RetrainingStatus
MOVE_LABELS = {
    R.ACCEPTED: "Accept (calls the pipeline)",
    R.REJECTED: "Reject",
    R.RUNNING: "Mark running",
    R.COMPLETED: "Mark completed",
}


def _csv(found: Any) -> HttpResponse:
    header = [
        "id",
        "model",
        "status",
        "reason",
        "event",
        "requested by",
        "created at",
        "decided by",
        "result version",
        "pipeline call",
    ]
    rows = (
        [
            r.pk,
            r.model.slug,
            r.status,
            r.reason,
            r.event_id or "",
            r.requested_by,
            r.created_at.isoformat(),
            getattr(r.decided_by, "username", ""),
            getattr(r.result_version, "version", ""),
            r.call_status,
        ]
        for r in found.iterator(chunk_size=500)
    )
    return csv_download("retraining-requests", header, rows)


def _list(request: HttpRequest, refused: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    filters = {"model": request.GET.get("model") or None, "status": request.GET.get("status") or None}
    filter_error = ""
    try:
        found = selectors_retraining.retraining_requests_list(request.user, **filters)
    except ApplicationError as exc:
        found, filter_error, status = RetrainingRequest.objects.none(), exc.message, 400
    if request.GET.get("format") == "csv" and not filter_error:
        return _csv(found)
    ctx = {
        **paged(request, found),
        "filters": filters,
        "filter_error": filter_error,
        "filtered": any(filters.values()),
        "models": models_visible_to(request.user).order_by("name"),
        "statuses": R.choices,
        "csv": csv_query(request),
        "refused": refused,
        "form": request.POST if refused else {},
    }
    return render(
        request, "governance/retraining_requests.html", page_ctx(request, ctx, "retraining"), status=status
    )


def _create(request: HttpRequest) -> RetrainingRequest | None:
    data = request.POST
    model = required_model(request, data.get("model", ""))
    event_id = int_field(data, "event", low=1, high=2**31 - 1)
    event = selectors.events_list(request.user).filter(model=model, pk=event_id).first() if event_id else None
    if event_id and event is None:
        raise ApplicationError(
            f"event: no drift event #{event_id} of this model.",
            errors=[{"field": "event", "message": "unknown event"}],
        )
    return retraining_request_create(
        model=model,
        reason=text_field(data, "reason", required=True, limit=MAX_TEXT),
        by=request.user,
        event=event,
    )


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def retraining_requests_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    try:
        made = _create(request)
    except ApplicationError as exc:
        return _list(request, refusal(exc, "create"), error_status(exc))
    messages.success(request, "Retraining requested; an analyst accepts or rejects it here.")
    # None only answers a policy's repeat; a person's repeat is a 409, refused above.
    return redirect("governance:retraining-request", pk=made.pk)  # type: ignore[union-attr]


def _detail(
    request: HttpRequest, found: RetrainingRequest, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    pipeline = selectors_retraining.retraining_pipeline_of(found.model)
    # Without an active pipeline accepting calls nothing: the button must not promise a call.
    labels = {**MOVE_LABELS} if pipeline and pipeline.is_active else {**MOVE_LABELS, R.ACCEPTED: "Accept"}
    ctx = {
        "req": found,
        "moves": [(to, labels.get(to, to)) for to in TRANSITIONS.get(found.status, ())],
        "versions": found.model.versions.order_by("-created_at", "-id")[:50],
        "pipeline": pipeline,
        "event_url": optional_url("governance:event", found.event_id) if found.event_id else "",
        "refused": refused,
        "form": request.POST if refused else {},
    }
    return render(
        request, "governance/retraining_request.html", page_ctx(request, ctx, "retraining"), status=status
    )


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def retraining_request_page(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors_retraining.retraining_request_for(request.user, pk)
    if request.method == "GET":
        return _detail(request, found)
    data = request.POST
    try:
        to = text_field(data, "to", required=True, limit=40)
        named = data.get("version", "").strip()
        moved = retraining_request_transition(
            request=found,
            to=to,
            by=request.user,
            note=text_field(data, "note", limit=MAX_TEXT),
            external_id=text_field(data, "external_id", limit=200).strip() or None,
            version=version_for(found.model, named[:64], status=400) if named else None,
        )
    except ApplicationError as exc:
        fresh = selectors_retraining.retraining_request_for(request.user, pk)
        return _detail(request, fresh, refusal(exc, "transition"), error_status(exc))
    messages.success(request, f"The request is now {moved.get_status_display().lower()}.")
    return redirect("governance:retraining-request", pk=pk)
