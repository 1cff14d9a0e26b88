"""The printable weekly model-health report (`/models/<slug>/report/?week=YYYY-Www`) and its CSVs."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from drift import briefing, page_tables
from drift.charts.report import report_figures
from drift.page_selectors.model import visible_model
from drift.page_selectors.report import WeeklyReport, weekly_report
from drift.page_tables.report import actions_table, governance_table, windows_table
from drift.reports import last_complete_week
from drift.views.access import page_ctx, role_required
from drift.views.common import charts, csv_response, with_csv
from monitoring_site.errors import ApplicationError, NotFound


def _report(request: HttpRequest, slug: str) -> WeeklyReport:
    return weekly_report(request.user, slug, week=request.GET.get("week"), version=request.GET.get("version"))


def _tables(report: WeeklyReport) -> list[page_tables.Table]:
    key, name, higher = briefing.primary_metric(report.model.task)
    return [
        windows_table(
            report.series,
            metric=key,
            name=name,
            percent=higher,
            per_window=report.impact.per_window if report.impact else (),
            currency=report.model.currency,
        ),
        governance_table(
            report.events_opened, report.events_closed, report.incidents_opened, report.incidents_resolved
        ),
        actions_table(report.actions, report.action_count),
    ]


@role_required()
def model_report(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        report = _report(request, slug)
    except NotFound:
        raise
    except ApplicationError as exc:  # a malformed or future week: say so, offer the default one
        ctx = {
            "model": visible_model(request.user, slug),
            "error": exc.message,
            "default_week": last_complete_week(timezone.now()).label,
        }
        return render(request, "drift/report.html", page_ctx(request, ctx, "portfolio"), status=400)
    figures = report_figures(
        series=report.series,
        cells=report.cells,
        windows=report.windows,
        per_window=report.impact.per_window if report.impact else (),
        events=report.events,
        task=report.model.task,
        currency=report.model.currency,
    )
    base = reverse("drift:model-report", args=[slug])
    ctx: dict[str, Any] = {
        "report": report,
        "model": report.model,
        "metric_name": briefing.primary_metric(report.model.task)[1],
        "charts": charts(figures),
        "tables": with_csv(request, _tables(report), base + "tables/"),
        "previous_week": report.week.shifted(-1).label,
        "next_week": report.week.shifted(1).label if report.week.shifted(1).start <= timezone.now() else "",
        "generated_at": timezone.now(),
        "partial": report.week.end > timezone.now(),
    }
    return render(request, "drift/report.html", page_ctx(request, ctx, "portfolio"))


@role_required()
def model_report_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    try:
        report = _report(request, slug)
    except NotFound:
        raise
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    found = next((t for t in _tables(report) if t.name == table), None)
    if found is None:
        raise Http404(f"No table '{table[:40]}'.")
    return csv_response(found, f"{report.model.slug}-{report.week.label}")
