"""Drill pages: the list (filters, pages, CSV, the analyst's form to start one on a model) and one drill
with its facts from the record (time to detect, acknowledge and mitigate, the rules that fired, its
events and its own gate), live until it ends and frozen in its report then. Writes go through
`governance.services.drills`."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from drift.selectors import models_visible_to
from drift.views.access import page_ctx, role_required
from governance.drill_data import KINDS, MAGNITUDES
from governance.models import Drill, DrillStatus
from governance.selectors_drills import drill_facts, drill_for, drill_rules, drills_list
from governance.services.drills import DEFAULT_ROWS, MAX_ROWS, drill_end, drill_start
from governance.views.support import (
    csv_download,
    csv_query,
    error_status,
    float_field,
    int_field,
    optional_url,
    paged,
    posts_need,
    refusal,
    required_model,
    text_field,
)
from monitoring_site.errors import ApplicationError


def _csv(found: Any) -> HttpResponse:
    header = [
        "id",
        "model",
        "version",
        "scenario",
        "magnitude",
        "rows",
        "status",
        "gate mode",
        "started by",
        "started at",
        "ended at",
    ]
    rows = (
        [
            d.pk,
            d.model.slug,
            d.version.version,
            d.scenario,
            d.magnitude,
            d.rows,
            d.status,
            d.gate_mode,
            getattr(d.started_by, "username", ""),
            d.started_at.isoformat(),
            d.ended_at.isoformat() if d.ended_at else "",
        ]
        for d in found.iterator(chunk_size=500)
    )
    return csv_download("drills", header, rows)


def _list(request: HttpRequest, refused: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    filters = {"model": request.GET.get("model") or None, "status": request.GET.get("status") or None}
    filter_error = ""
    try:
        found = drills_list(request.user, **filters)
    except ApplicationError as exc:
        found, filter_error, status = Drill.objects.none(), exc.message, 400
    if request.GET.get("format") == "csv" and not filter_error:
        return _csv(found)
    ctx = {
        **paged(request, found),
        "filters": filters,
        "filter_error": filter_error,
        "filtered": any(filters.values()),
        "models": models_visible_to(request.user).order_by("name"),
        "statuses": DrillStatus.choices,
        "scenarios": [(kind, MAGNITUDES.get(kind)) for kind in KINDS],
        "default_rows": DEFAULT_ROWS,
        "max_rows": MAX_ROWS,
        "csv": csv_query(request),
        "refused": refused,
        "form": request.POST if refused else {"scenario": "mean_shift"},  # a change worth detecting
    }
    return render(request, "governance/drills.html", page_ctx(request, ctx, "drills"), status=status)


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def drills_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list(request)
    data = request.POST
    try:
        model = required_model(request, data.get("model", ""))
        options = {
            "magnitude": float_field(data, "magnitude"),
            "rows": int_field(data, "rows", low=50, high=MAX_ROWS) or DEFAULT_ROWS,
        }
        scenario = text_field(data, "scenario", required=True, limit=40)
        drill = drill_start(model=model, scenario=scenario, by=request.user, **options)
    except ApplicationError as exc:
        return _list(request, refusal(exc, "start"), error_status(exc))
    messages.success(request, f"Drill started on {drill.model.name}: {drill.injected or drill.scenario}.")
    return redirect("governance:drill", pk=drill.pk)


def _detail(
    request: HttpRequest, drill: Drill, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    report = drill.report or {}
    facts = report or drill_facts(drill)
    events = [{**e, "url": optional_url("governance:event", e["id"])} for e in facts.get("events", [])]
    ctx = {
        "drill": drill,
        "running": drill.status == DrillStatus.RUNNING,
        "facts": facts,
        "events": events,
        "rules": report.get("rules") if report else drill_rules(drill),
        "summary": report.get("summary", ""),
        "refused": refused,
        "form": request.POST if refused else {},
    }
    return render(request, "governance/drill.html", page_ctx(request, ctx, "drills"), status=status)


@role_required()
@posts_need()
@require_http_methods(["GET", "POST"])
def drill_page(request: HttpRequest, pk: int) -> HttpResponse:
    drill = drill_for(request.user, pk)
    if request.method == "GET":
        return _detail(request, drill)
    try:
        if request.POST.get("action") != "end":
            raise ApplicationError(
                "Unknown action.", errors=[{"field": "action", "message": "the only action here is end"}]
            )
        drill_end(drill=drill, by=request.user, note=text_field(request.POST, "note", limit=10_000))
    except ApplicationError as exc:
        return _detail(request, drill_for(request.user, pk), refusal(exc, "end"), error_status(exc))
    messages.success(request, "Drill ended: its events are closed and its report is frozen below.")
    return redirect("governance:drill", pk=pk)
