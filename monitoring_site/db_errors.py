"""A database that does not answer (down, restarting, failing over) is a 503 with Retry-After, not a 500.

Clients that retry on 503 then resend what failed; ingestion is idempotent on record ids, so a batch
whose fate they never learned is stored once. Two hooks serve one answer:

- `DatabaseUnavailableMiddleware.process_exception` for errors raised by views (the DRF exception
  handler leaves database errors to Django, so API views land here too);
- `server_error`, the 500 handler, for errors raised outside views (session or authentication
  middleware, the login form): it looks at the exception being handled.

"Unavailable" means Django's OperationalError or InterfaceError (or psycopg's own, should one escape
Django's wrapper): lost connections, refused connections, a server shutting down, and also transient
refusals such as lock or statement timeouts and deadlocks, which are worth retrying too.
"""

import logging
import sys
from collections.abc import Callable

from django import db
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "The database is unavailable; retry shortly."


def _unavailable_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [db.OperationalError, db.InterfaceError]
    try:
        import psycopg

        types += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # the embedded default runs without psycopg
        pass
    return tuple(types)


UNAVAILABLE = _unavailable_types()


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a database that cannot answer now (the exception or any cause of it)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, UNAVAILABLE):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def database_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503: JSON under /api/, a short page elsewhere; both with Retry-After."""
    log.warning(
        "database unavailable: %s: %s",
        type(exc).__name__,
        str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "",
        extra={"path": request.path, "status": 503},
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DETAIL, "errors": []}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Driftwatch is unavailable</title>"
            "<h1>Driftwatch is briefly unavailable</h1>"
            "<p>Its database does not answer. Reload the page in a few seconds.</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return database_unavailable(request, exception)
        return None


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    """`handler500`: a database outage met outside a view is still a 503; anything else is Django's 500."""
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        return database_unavailable(request, exc)  # type: ignore[arg-type]
    return defaults.server_error(request, template_name)
