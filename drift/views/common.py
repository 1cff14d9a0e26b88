"""Helpers shared by the page views: chart entries for templates, tables with their CSV link, CSV."""

import csv
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify

from drift.charts import is_empty
from drift.page_tables import Table

CHART_LABELS = {
    "performance": "Headline metric over time, measured and estimated, with likely ranges",
    "outcomes": "Value of this window's decisions by outcome",
    "heatmap": "Change of each feature by window, relative to its learned threshold",
    "calibration": "Calibration curve: predicted probability against observed rate",
    "quality": "Shares of late and refused records by window",
    "latency": "Response time percentiles by window",
    "volume": "Predictions and error rate by window",
    "queue": "Queue depth by window",
    "confidence": "Distribution of predicted probabilities, this window and reference",
    "attribution": "Feature importance now and in the reference",
    "distribution": "Distribution of the feature in the reference and this window",
    "statistic": "Change of the feature against its learned threshold by window",
}


def charts(figures: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`{name: {id, figure, label, empty}}`: what `drift/_chart.html` needs to embed one figure."""
    return {
        name: {
            "id": f"fig-{name}",
            "figure": fig,
            "label": CHART_LABELS.get(name, fig.get("layout", {}).get("title", {}).get("text", name)),
            "empty": is_empty(fig),
        }
        for name, fig in figures.items()
    }


def with_csv(request: HttpRequest, tables: list[Table], base: str) -> dict[str, dict[str, Any]]:
    """`{name: {table, csv}}`: each table with the link that downloads it (same query string)."""
    query = request.GET.urlencode()
    return {
        t.name: {"table": t, "csv": f"{base}{t.name}.csv" + (f"?{query}" if query else "")} for t in tables
    }


def csv_response(table: Table, stem: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(stem)}-{table.name}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.header())
    for row in table.values():
        writer.writerow(["" if v is None else v for v in row])
    return response
