"""The portfolio: every model's health at a glance, for executives first."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from drift import briefing
from drift.charts import sparkline
from drift.page_selectors import portfolio
from drift.page_tables import portfolio_table
from drift.views.access import page_ctx, role_required
from drift.views.common import csv_response


@role_required()
def portfolio_page(request: HttpRequest) -> HttpResponse:
    rows = portfolio(request.user)
    trends = {
        r.model.slug: {
            "id": f"trend-{r.model.slug}",
            "figure": sparkline(
                r.trend_values,
                r.trend_labels,
                name=r.trend_name,
                percent=r.trend_name != "Mean absolute error",
            ),
            "label": f"{r.trend_name} over the last {len(r.trend_values)} windows",
        }
        for r in rows
    }
    counts = {
        s: sum(1 for r in rows if r.health.status == s)
        for s in (briefing.ACT, briefing.WATCH, briefing.HEALTHY)
    }
    ctx = {
        "rows": [(r, trends[r.model.slug]) for r in rows],
        "counts": counts,
        "csv": reverse("drift:portfolio-csv"),
        "rule": briefing.RULE,
    }
    return render(request, "drift/portfolio.html", page_ctx(request, ctx, "portfolio"))


@role_required()
def portfolio_csv(request: HttpRequest) -> HttpResponse:
    return csv_response(portfolio_table(portfolio(request.user)), "portfolio")
