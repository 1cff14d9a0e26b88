"""Small helpers the governance views share: bodies, pages, CSV."""

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring_site.errors import ApplicationError

PAGE = [
    OpenApiParameter("limit", int, description="Items per page (default 50, at most 1000)."),
    OpenApiParameter("offset", int, description="Items to skip."),
]


class Pages(LimitOffsetPagination):
    max_limit = 1000


def paginate(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    paginator = Pages()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def body(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    if not isinstance(request.data, dict):
        raise ApplicationError(
            "The body must be a JSON object.", errors=[{"field": "body", "message": "expected an object"}]
        )
    return request.data


def query(request: Request, *names: str) -> dict[str, str | None]:
    return {name: request.query_params.get(name) or None for name in names}


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Only errors reach here (the export streams its own response): answer them as JSON text.
        return json.dumps(data).encode() if data is not None else b""


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_rows(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell(v) for v in row])
