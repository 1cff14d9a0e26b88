"""Frontline flags and the triage queue.

`/triage/flag/<slug>/` takes a flag (a prediction, a time range or a segment) from the forms on the
prediction pages and under the model page's charts, and also shows that form on its own (GET, or again
with the refusal after bad input). `/triage/` is the queue: analysts see every flag of the models they
may see, open ones first by default, and accept (an improvement task linked to an open drift event or a
retraining request) or dismiss (with a reason) each; frontline users see their own flags and what became
of them, read-only. Writes go through `governance.services.annotations`, which audits them.
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from drift.models import MonitoredModel
from drift.page_selectors import visible_model
from drift.page_selectors.annotations import segment_features
from drift.roles import ANALYST, FRONTLINE, role_at_least, user_role
from drift.selectors import models_visible_to
from drift.validation import parse_timestamp
from drift.views.access import page_ctx, role_required
from governance import selectors
from governance.models import Annotation, AnnotationCategory, AnnotationStatus, AnnotationTarget
from governance.models.retraining import OPEN_RETRAINING
from governance.selectors_annotations import annotation_for, annotations_list
from governance.selectors_retraining import retraining_requests_list
from governance.services.annotations import MAX_NOTE, annotation_accept, annotation_create, annotation_dismiss
from governance.views.support import (
    csv_download,
    csv_query,
    error_status,
    paged,
    posts_need,
    refusal,
    text_field,
)
from monitoring_site.errors import ApplicationError

NEW_RETRAINING = "new-retraining"


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        f"{field.replace('_', ' ')}: {message}", errors=[{"field": field, "message": message}]
    )


def _time(data: QueryDict, name: str) -> datetime:
    raw = data.get(name, "").strip()
    when = parse_timestamp(raw) if raw else None  # naive (a datetime-local input) is UTC
    if when is None:
        shown = f", not '{raw[:30]}'" if raw else ""
        raise _invalid(name, f"a date and time in UTC such as 2026-11-20T08:00{shown}")
    return when


def _target(data: QueryDict) -> dict[str, Any]:
    """The form's target fields as `annotation_create` keywords (only those of the chosen target)."""
    target = data.get("target", "")
    if target == AnnotationTarget.PREDICTION:
        return {"record_id": text_field(data, "record_id", required=True, limit=200)}
    if target == AnnotationTarget.TIME_RANGE:
        return {"start": _time(data, "start"), "end": _time(data, "end")}
    if target == AnnotationTarget.SEGMENT:
        feature = text_field(data, "segment_feature", required=True, limit=100)
        return {
            "segment": {
                "feature": feature,
                "value": text_field(data, "segment_value", required=True, limit=200),
            }
        }
    raise _invalid("target", "choose a prediction, a time range or a segment")


def _back(request: HttpRequest) -> str:
    """Where the form came from (a page of this site), else the queue."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("governance:triage")


@require_http_methods(["GET", "POST"])
@role_required(FRONTLINE)
def annotation_flag(request: HttpRequest, slug: str) -> HttpResponse:
    model = visible_model(request.user, slug)
    if request.method == "POST":
        data = request.POST
        try:
            made = annotation_create(
                model=model,
                by=request.user,
                category=data.get("category", ""),
                note=text_field(data, "note", required=True, limit=MAX_NOTE),
                **_target(data),
            )
        except ApplicationError as exc:
            return _flag_page(request, model, data, refusal(exc, "flag"), error_status(exc))
        messages.success(request, f"Flag #{made.pk} sent for review. Its status shows on the triage page.")
        return redirect(_back(request))
    return _flag_page(request, model, request.GET)


def _flag_page(
    request: HttpRequest,
    model: MonitoredModel,
    data: QueryDict,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    version = model.versions.filter(stage="production").first() or model.versions.order_by("-id").first()
    ctx = {
        "model": model,
        "form": data,
        "refused": refused,
        "categories": AnnotationCategory.choices,
        "segment_features": segment_features(version),
        "next": data.get("next", ""),
    }
    return render(request, "governance/flag.html", page_ctx(request, ctx, "triage"), status=status)


# --- the queue --------------------------------------------------------------------------------------

STATUS_ALL = "all"


def _filters(request: HttpRequest, analyst: bool) -> dict[str, str | None]:
    status = request.GET.get("status")
    if status is None:  # the queue's default: what still needs a decision (frontline: all of theirs)
        status = AnnotationStatus.OPEN if analyst else STATUS_ALL
    return {
        "model": request.GET.get("model") or None,
        "category": request.GET.get("category") or None,
        "status": None if status in ("", STATUS_ALL) else status,
    }


CSV_HEADER = [
    "id",
    "created_at",
    "model",
    "target",
    "record_id",
    "start",
    "end",
    "segment",
    "category",
    "note",
    "status",
    "created_by",
    "triaged_by",
    "triaged_at",
    "dismiss_reason",
    "task",
]


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else ""


def _csv(found: QuerySet[Annotation]) -> HttpResponse:
    rows = (
        [
            a.pk,
            _iso(a.created_at),
            a.model.slug,
            a.target,
            a.record_id,
            _iso(a.start),
            _iso(a.end),
            f"{a.segment_feature}={a.segment_value}" if a.segment_feature else "",
            a.category,
            a.note,
            a.status,
            getattr(a.created_by, "username", ""),
            getattr(a.triaged_by, "username", ""),
            _iso(a.triaged_at),
            a.dismiss_reason,
            a.task_id or "",
        ]
        for a in found.iterator(chunk_size=500)
    )
    return csv_download("annotations", CSV_HEADER, rows)


def _links(user: Any, model_ids: set[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Per model on the page: the open (real) events and open retraining requests a flag may feed."""
    out: dict[int, dict[str, list[dict[str, Any]]]] = {m: {"events": [], "requests": []} for m in model_ids}
    events = selectors.events_list(user, open_only=True).filter(model_id__in=model_ids)
    for e in events.values("id", "model_id", "title", "severity")[:500]:
        out[e["model_id"]]["events"].append(e)
    requests = retraining_requests_list(user).filter(model_id__in=model_ids, status__in=OPEN_RETRAINING)
    for r in requests.values("id", "model_id", "reason", "status")[:500]:
        out[r["model_id"]]["requests"].append(r)
    return out


def _queue(request: HttpRequest, refused: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    analyst = role_at_least(user_role(request.user), ANALYST)
    filters = _filters(request, analyst)
    filter_error = ""
    try:
        found = annotations_list(request.user, **filters)
    except ApplicationError as exc:
        found, filter_error, status = Annotation.objects.none(), exc.message, 400
    if not analyst:
        found = found.filter(created_by=request.user)  # frontline users follow their own flags
    if request.GET.get("format") == "csv" and not filter_error:
        return _csv(found)
    ctx: dict[str, Any] = {
        **paged(request, found),
        "analyst": analyst,
        "filters": filters,
        "status_choice": request.GET.get("status", AnnotationStatus.OPEN if analyst else STATUS_ALL),
        "filter_error": filter_error,
        "models": models_visible_to(request.user).order_by("name"),
        "categories": AnnotationCategory.choices,
        "statuses": AnnotationStatus.choices,
        "csv": csv_query(request),
        "refused": refused,
        # The row whose triage forms were refused opens again, its bad field marked.
        "refused_pk": int(posted)
        if refused and (posted := request.POST.get("annotation", "")).isdigit()
        else None,
    }
    rows = list(ctx["page"])
    links = _links(request.user, {a.model_id for a in rows}) if analyst else {}
    ctx["rows"] = [(a, links.get(a.model_id, {})) for a in rows]
    return render(request, "governance/triage.html", page_ctx(request, ctx, "triage"), status=status)


def _link(user: Any, annotation: Annotation, value: str) -> dict[str, Any]:
    """The accept form's `link` (`event:<id>`, `retraining:<id>` or `new-retraining`) as service keywords,
    looked up among the flag's model's open events and requests."""
    if value == NEW_RETRAINING:
        return {"request_retraining": True}
    kind, _, raw = value.partition(":")
    if kind == "event" and raw.isdigit() and len(raw) < 19:
        found = selectors.events_list(user, open_only=True).filter(model=annotation.model_id, pk=int(raw))
        if (event := found.first()) is not None:
            return {"event": event}
    if kind == "retraining" and raw.isdigit() and len(raw) < 19:
        found_requests = retraining_requests_list(user).filter(
            model=annotation.model_id, pk=int(raw), status__in=OPEN_RETRAINING
        )
        if (req := found_requests.first()) is not None:
            return {"retraining_request": req}
    if not value:
        raise _invalid("link", "choose an open drift event, an open retraining request or a new request")
    raise _invalid("link", "not an open drift event or retraining request of this flag's model")


def _decide(request: HttpRequest) -> str:
    """Carry out the triage form's decision on one flag; what was done, for the message."""
    data = request.POST
    raw = data.get("annotation", "")
    if not raw.isdigit() or len(raw) > 18:
        raise _invalid("annotation", "the id of a flag")
    annotation = annotation_for(request.user, int(raw))
    decision = data.get("decision", "")
    if decision == "dismiss":
        reason = text_field(data, "reason", required=True, limit=MAX_NOTE)
        annotation_dismiss(annotation=annotation, by=request.user, reason=reason)
        return f"Flag #{annotation.pk} dismissed."
    if decision == "accept":
        task = annotation_accept(
            annotation=annotation,
            by=request.user,
            title=text_field(data, "title", limit=300),
            **_link(request.user, annotation, data.get("link", "")),
        )
        return f"Flag #{annotation.pk} accepted: improvement task #{task.pk} created."
    raise _invalid("decision", "accept or dismiss")


@require_http_methods(["GET", "POST"])
@role_required(FRONTLINE)
@posts_need(ANALYST)
def triage_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            done = _decide(request)
        except ApplicationError as exc:
            return _queue(
                request, refusal(exc, f"triage-{request.POST.get('annotation', '')}"), error_status(exc)
            )
        messages.success(request, done)
        return redirect(request.get_full_path())
    return _queue(request)
