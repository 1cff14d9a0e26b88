"""What the governance pages share: pages of a list, CSV downloads, form parsing at the edge, and the
rule that a page anyone with a role reads takes POSTs from analysts only.

Form values are parsed here into typed values, or an `ApplicationError` naming the field, so a page
catches one exception type whether the form or the service refused.
"""

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify

from drift.models import MonitoredModel
from drift.roles import ANALYST, role_at_least, user_role
from drift.selectors import model_for, models_visible_to
from drift.views.access import page_ctx
from governance.api.common import csv_rows
from monitoring_site.errors import ApplicationError, NotFound

PER_PAGE = 25
View = Callable[..., HttpResponse]


def posts_need(needed: str = ANALYST) -> Callable[[View], View]:
    """GET for every role the outer `role_required` lets in; POST only from `needed` and up (403 with
    the usual explanation otherwise, so a forged form does nothing)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            role = user_role(request.user)
            if request.method == "POST" and not role_at_least(role, needed):
                ctx = {"needed": needed, "role": role}
                return render(request, "drift/forbidden.html", page_ctx(request, ctx), status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def optional_url(name: str, *args: Any) -> str:
    """A link to a page another part of the site may not have yet (empty then)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def error_status(exc: ApplicationError) -> int:
    """The status of a page re-rendered with a refusal: the service's 4xx (400 for anything else). An
    unknown id inside a form is bad input (400), not a missing page."""
    if isinstance(exc, NotFound):
        return 400
    return exc.status if 400 <= exc.status < 500 else 400


def refusal(exc: ApplicationError, action: str) -> dict[str, Any]:
    """What the template shows next to the form `action` that was refused."""
    fields = [str(e.get("field")) for e in exc.errors if e.get("field")]
    return {"action": action, "message": exc.message, "fields": fields}


def paged(request: HttpRequest, items: Any, per_page: int = PER_PAGE) -> dict[str, Any]:
    """`{page, previous, next}`: one page of `items` (a bad `?page=` shows the nearest page) and the
    query strings of its neighbours, keeping the filters."""
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))

    def query(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return params.urlencode()

    return {
        "page": page,
        "previous": query(page.previous_page_number()) if page.has_previous() else "",
        "next": query(page.next_page_number()) if page.has_next() else "",
    }


def csv_query(request: HttpRequest) -> str:
    """The list's query string with `format=csv` (the filters kept, the page dropped: CSV has them all)."""
    params: QueryDict = request.GET.copy()
    params.pop("page", None)
    params["format"] = "csv"
    return params.urlencode()


def csv_download(stem: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """Every row of a list as CSV, with cells a spreadsheet will not run as formulas."""
    response = StreamingHttpResponse(csv_rows(list(header), (list(r) for r in rows)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{slugify(stem)}.csv"'
    return response


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        f"{field.replace('_', ' ')}: {message}", errors=[{"field": field, "message": message}]
    )


def text_field(data: QueryDict, name: str, *, required: bool = False, limit: int = 20_000) -> str:
    value = data.get(name, "")
    if required and not value.strip():
        raise _invalid(name, "required")
    if len(value) > limit:
        raise _invalid(name, f"at most {limit:,} characters")
    return value


def int_field(data: QueryDict, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
    """An optional whole number (None when blank)."""
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, f"a whole number, not '{raw[:20]}'") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise _invalid(name, f"between {low:,} and {high:,}")
    return value


def float_field(data: QueryDict, name: str) -> float | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _invalid(name, f"a number, not '{raw[:20]}'") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _invalid(name, "a finite number")
    return value


def date_field(data: QueryDict, name: str) -> date | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _invalid(name, f"a date like 2026-12-01, not '{raw[:20]}'") from None


def chosen_model(request: HttpRequest, slug: str) -> MonitoredModel | None:
    """The model a form's optional `model` field names (None when blank)."""
    return required_model(request, slug) if slug.strip() else None


def required_model(request: HttpRequest, slug: str) -> MonitoredModel:
    """The model a form's `model` field names; a clear 400 naming the field when blank or unknown."""
    slug = slug.strip()[:80]
    if not slug:
        raise _invalid("model", "required")
    try:
        return model_for(request.user, slug)
    except NotFound:
        raise _invalid("model", f"no model '{slug}'") from None


Action = Callable[[HttpRequest, Any], str]
Detail = Callable[..., HttpResponse]


def run_action(
    request: HttpRequest,
    obj: Any,
    actions: dict[str, Action],
    *,
    reload: Callable[[], Any],
    detail: Detail,
    done_url: str,
) -> HttpResponse:
    """A detail page's POST: run the form's named action, then back to the page with its message; a
    refusal re-renders the page (fresh from the database) with the message and the form as typed."""
    action = request.POST.get("action", "")
    try:
        if action not in actions:
            raise ApplicationError(
                f"Unknown action '{action[:40]}'.",
                errors=[{"field": "action", "message": f"one of {', '.join(actions)}"}],
            )
        done = actions[action](request, obj)
    except ApplicationError as exc:
        return detail(request, reload(), refusal(exc, action), error_status(exc))
    messages.success(request, done)
    return redirect(done_url)


def list_page(
    request: HttpRequest,
    *,
    filters: dict[str, Any],
    query: Callable[[], Any],
    empty: Any,
    csv: Callable[[Any], StreamingHttpResponse],
    template: str,
    section: str,
    extra: dict[str, Any],
) -> HttpResponse:
    """A filtered, paged list with its CSV (`?format=csv`): a bad filter is a 400 naming it, on the
    page (with the filter form to fix it) or as plain text for the CSV."""
    error = ""
    try:
        items = query()
    except ApplicationError as exc:  # an unknown model, status or severity in the filters
        items, error = empty, exc.message
    if request.GET.get("format") == "csv":
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return csv(items)
    ctx = {
        **paged(request, items),
        "filters": filters,
        "filtered": any(filters.values()),
        "error": error,
        "csv": csv_query(request),
        "models": models_visible_to(request.user).order_by("name").values("slug", "name"),
        **extra,
    }
    return render(request, template, page_ctx(request, ctx, section), status=400 if error else 200)
