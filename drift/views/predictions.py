"""The prediction explorer and a prediction's drill-down (frontline users and up)."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from drift.page_selectors.annotations import flags_of_prediction
from drift.page_selectors.predictions import explorer_page, prediction_detail
from drift.roles import FRONTLINE
from drift.views.access import page_ctx, role_required


@role_required(FRONTLINE)
def predictions_list(request: HttpRequest, slug: str) -> HttpResponse:
    page = explorer_page(request.user, slug, request.GET)
    ctx = {
        "page": page,
        "model": page.model,
        "next_query": urlencode(page.filters.query(cursor=page.next_cursor)) if page.next_cursor else "",
        "first_query": urlencode(page.filters.query()) if page.filters.cursor else "",
    }
    return render(request, "drift/predictions.html", page_ctx(request, ctx, "predictions"))


@role_required(FRONTLINE)
def prediction_page(request: HttpRequest, slug: str, record_id: str) -> HttpResponse:
    ctx = prediction_detail(request.user, slug, record_id)
    ctx["flags"] = flags_of_prediction(ctx["model"], ctx["row"].record_id)
    return render(request, "drift/prediction.html", page_ctx(request, ctx, "predictions"))
