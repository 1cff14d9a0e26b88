"""The model page (executive view by default, `?view=technical` for everything) and its actions."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST

from drift import briefing, page_tables
from drift.charts.breakdowns import breakdown_figures
from drift.charts.concept import concept_points
from drift.charts.pages import model_figures, outcome_counts
from drift.page_selectors import ModelPage, model_page, schedule_sentence
from drift.page_selectors.annotations import segment_features
from drift.page_tables.breakdowns import concept_table, segments_table
from drift.roles import ANALYST, FRONTLINE, role_at_least, user_role
from drift.services.analyses import analysis_request
from drift.views.access import page_ctx, role_required
from drift.views.common import charts, csv_response, with_csv
from drift.views.page_cache import model_body_key
from monitoring_site.errors import ApplicationError

BODY_PARTS = ("charts", "tables", "story", "fairness_charts")


def _page(request: HttpRequest, slug: str, *, technical: bool = True) -> ModelPage:
    return model_page(
        request.user,
        slug,
        version=request.GET.get("version"),
        run_id=request.GET.get("run"),
        heatmap=technical,
    )


def _tables(page: ModelPage, *, technical: bool = True) -> list[page_tables.Table]:
    counts, estimated = outcome_counts(page.results)
    r = page.results
    executive = [
        page_tables.outcomes_table(counts, page.values, page.model.currency, estimated),
        page_tables.events_table(page.open_events),
    ]
    if not technical:
        return executive
    return [
        *executive,
        page_tables.metrics_table(r),
        page_tables.features_table(r),
        page_tables.quality_table(r, alerts_only=True),
        page_tables.quality_table(r),
        page_tables.fairness_table(r),
        page_tables.operations_table(page.series),
        page_tables.attribution_table(r),
        segments_table(r),
        concept_table(concept_points(page.series)),
    ]


def _story(page: ModelPage) -> dict[str, str]:
    impact = briefing.impact_sentence(page.impact, page.impact_windows)
    return briefing.story(
        page.results,
        impact_text=impact,
        kpi=page.model.business_kpi,
        serving=page.serving,
        open_events=page.open_events,
        open_incidents=page.open_incidents,
        owner=page.model.owner,
        schedule=schedule_sentence(page.model),
    )


def _body(request: HttpRequest, page: ModelPage, *, technical: bool) -> dict[str, Any]:
    """What the page's body shows: its figures, tables and story."""
    figures = model_figures(
        series=page.series,
        cells=page.cells,
        windows=page.windows,
        window_ids=[s["run_id"] for s in page.series],
        results=page.results,
        events=page.events,
        task=page.model.task,
        values=page.values,
        currency=page.model.currency,
        four_fifths=page.model.fairness_four_fifths,
        technical=technical,
        flags=page.flags,
    )
    if technical:  # drift by segment and concept drift
        figures.update(breakdown_figures(series=page.series, results=page.results, events=page.events))
    tables = _tables(page, technical=technical)
    return {
        "charts": charts(figures),
        "tables": with_csv(request, tables, reverse("drift:model", args=[page.model.slug]) + "tables/"),
        "story": _story(page) if page.results else None,
        "fairness_charts": sorted(k for k in figures if k.startswith("fairness_")),
    }


@role_required()
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    technical = request.GET.get("view") == "technical"
    page = _page(request, slug, technical=technical)
    role = user_role(request.user)
    can_flag = role_at_least(role, FRONTLINE)
    # The body is built only when the template's `page_cache` has no copy for its key.
    body = SimpleLazyObject(lambda: _body(request, page, technical=technical))
    ctx: dict[str, Any] = {
        "page": page,
        "model": page.model,
        "technical": technical,
        "body_key": model_body_key(
            page, request, technical=technical, can_analyse=role_at_least(role, ANALYST), can_explore=can_flag
        ),
        **{name: SimpleLazyObject(lambda name=name: body[name]) for name in BODY_PARTS},
        "features": sorted({c["feature"] for c in page.cells}),
        # The flag form under the time charts (frontline and up): segments it offers, the window length
        # a click on a chart fills in.
        "segment_features": segment_features(page.version) if can_flag else [],
        "window_seconds": (page.run.window_end - page.run.window_start).total_seconds() if page.run else 0,
    }
    return render(request, "drift/model.html", page_ctx(request, ctx, "portfolio"))


@role_required()
def model_table_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    page = _page(request, slug)
    found = next((t for t in _tables(page) if t.name == table), None)
    if found is None:
        raise Http404(f"No table '{table[:40]}'.")
    return csv_response(found, f"{page.model.slug}")


@require_POST
@role_required(ANALYST)
def model_reanalyse(request: HttpRequest, slug: str) -> HttpResponse:
    """Re-run the chosen window now (an analyst's action; the run is queued like any other)."""
    page = model_page(request.user, slug, version=request.POST.get("version"), run_id=request.POST.get("run"))
    if page.run is None:
        raise Http404("No analysis to re-run.")
    try:
        run = analysis_request(
            model=page.model,
            window_start=page.run.window_start,
            window_end=page.run.window_end,
            version=page.run.version,
            requested_by=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Analysis of this window is {run.get_status_display().lower()}.")
    url = reverse("drift:model", args=[slug])
    return redirect(f"{url}?version={page.run.version.version}&run={page.run.pk}&view=technical")
