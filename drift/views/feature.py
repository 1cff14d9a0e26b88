"""The feature page: one input's distribution, its change over time, quality and lineage."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from drift import page_tables
from drift.charts.pages import feature_figures
from drift.page_selectors import FeaturePage, feature_page
from drift.views.access import page_ctx, role_required
from drift.views.common import charts, csv_response, with_csv


def _page(request: HttpRequest, slug: str, name: str) -> FeaturePage:
    return feature_page(
        request.user, slug, name, version=request.GET.get("version"), run_id=request.GET.get("run")
    )


def _tables(page: FeaturePage) -> list[page_tables.Table]:
    return [
        page_tables.distribution_table(page.distribution),
        page_tables.history_table(page.history),
        page_tables.feature_quality_table(page.quality),
        page_tables.lineage_table(page.lineage),
    ]


@role_required()
def feature_detail(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    page = _page(request, slug, name)
    figures = feature_figures(
        name=page.spec.name,
        distribution=page.distribution,
        history=page.history,
        quality=page.quality,
        events=page.events,
        flags=page.flags,
    )
    base = reverse("drift:feature", args=[slug, page.spec.name]) + "tables/"
    ctx = {
        "page": page,
        "model": page.model,
        "charts": charts(figures),
        "tables": with_csv(request, _tables(page), base),
    }
    return render(request, "drift/feature.html", page_ctx(request, ctx, "portfolio"))


@role_required()
def feature_table_csv(request: HttpRequest, slug: str, name: str, table: str) -> HttpResponse:
    page = _page(request, slug, name)
    found = next((t for t in _tables(page) if t.name == table), None)
    if found is None:
        raise Http404(f"No table '{table[:40]}'.")
    return csv_response(found, f"{page.model.slug}-{page.spec.name}")
