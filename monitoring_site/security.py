"""Browser security headers, and a limit on failed sign-ins.

Content-Security-Policy: every script Driftwatch serves is a file under /static/ (pages embed chart data
with `json_script`, which browsers never execute, and the vendored Plotly draws it; the API docs load
their init script from `/api/docs/?script=`), so no page may run inline scripts. Stylesheets are files
too; Plotly needs style attributes, one empty <style> element it fills through the CSSOM and one fixed
<style> block, which the policy allows (the two blocks by hash) and nothing more. Django's
SecurityMiddleware sets HSTS, X-Content-Type-Options, Referrer-Policy and Cross-Origin-Opener-Policy,
and XFrameOptionsMiddleware X-Frame-Options.

Sign-in limit: after `LOGIN_FAILURE_LIMIT` failed sign-ins for one (client address, username) within
`LOGIN_FAILURE_WINDOW` seconds, or `LOGIN_FAILURE_LIMIT_PER_ADDRESS` from one address for any names, the
sign-in forms (the dashboards' and the admin's) answer 429 with Retry-After until the window ends. Counts
live in Django's cache (CACHE_URL): with several web processes it must be a shared cache (Redis), or each
process counts on its own. The API has no sign-in endpoint (tokens are made by an admin), and telemetry
is never throttled.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

# sha256 of the empty string. Plotly adds one empty <style> element and fills it through the CSSOM
# (insertRule), which CSP allows; hashing "" allows that element and no other inline <style>.
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
# sha256 of the map-tile stylesheet (MapLibre) that static/vendor/plotly.min.js (v3.7.0) adds as a fixed
# <style> when it loads. A test recomputes it from the vendored file, so upgrading Plotly shows here.
PLOTLY_MAPLIBRE_STYLE_HASH = "'sha256-V2sIX92Uh6ZaGSFTKMHghsB85b9toJtmazgG09AI2uk='"
_COMMON = [
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join(
    [
        *_COMMON,
        # Browsers without the two directives below (CSP 3) fall back to this one.
        "style-src 'self' 'unsafe-inline'",
        # No inline <style> elements (the ones that could read a page through CSS selectors)...
        f"style-src-elem 'self' {EMPTY_STYLE_HASH} {PLOTLY_MAPLIBRE_STYLE_HASH}",
        # ...but style attributes, which Plotly's d3 sets on some chart elements.
        "style-src-attr 'unsafe-inline'",
    ]
)
# HTML pages under /api/ come from third-party packages (Swagger UI's page and DRF's browsable API),
# each with one fixed inline <style> block: the same policy with inline styles allowed. Scripts stay
# files only: Swagger UI's init script is served from /api/docs/?script=.
THIRD_PARTY_UI_POLICY = "; ".join([*_COMMON, "style-src 'self' 'unsafe-inline'"])
# Powerful browser features no Driftwatch page uses.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

Handler = Callable[[HttpRequest], HttpResponse]


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response that has none yet."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        third_party = request.path.startswith("/api/") and response.get("Content-Type", "").startswith(
            "text/html"
        )
        response.headers.setdefault(
            "Content-Security-Policy", THIRD_PARTY_UI_POLICY if third_party else CONTENT_SECURITY_POLICY
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RefuseNulMiddleware:
    """400 for a query string holding a NUL character (%00), on every page and endpoint.

    PostgreSQL cannot compare text holding NUL, so a filter such as `?model=%00` would fail in the
    database as a 500. Request bodies are checked by the parsers (monitoring_site.parsers) and DRF's
    serializer fields; path parameters by their converters and lookups (an unknown name is a 404).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        where = None
        if "%00" in query or "\x00" in query:
            where = next(
                (
                    key
                    for key, values in request.GET.lists()
                    if "\x00" in key or any("\x00" in v for v in values)
                ),
                None,
            )
        if where is None:
            return self.get_response(request)
        message = "contains a NUL character (\\u0000)"
        detail = f"Query parameter {where!r} {message}, which cannot be stored."
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": detail, "errors": [{"field": where, "message": message}]}, status=400
            )
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")


# --- Failed sign-ins -------------------------------------------------------------------------------

# The sign-in views (by URL name) whose POSTs are limited.
LOGIN_VIEWS = frozenset({"login", "admin:login"})


def _limits() -> tuple[int, int, int]:
    opts = settings.DRIFTWATCH
    return (
        int(opts.get("LOGIN_FAILURE_LIMIT", 5)),
        int(opts.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 50)),
        int(opts.get("LOGIN_FAILURE_WINDOW", 900)),
    )


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind the TLS proxy the address that proxy saw (the last
    entry of X-Forwarded-For, the only one a client cannot forge)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _keys(address: str, username: str) -> list[tuple[str, int]]:
    per_name, per_address, _ = _limits()
    # Hashed: cache keys must be short and printable, and usernames are neither necessarily.
    name = hashlib.sha256(f"{address}\x00{username.strip().lower()}".encode()).hexdigest()[:32]
    addr = hashlib.sha256(address.encode()).hexdigest()[:32]
    return [(f"dw:login-fail:{name}", per_name), (f"dw:login-fail-addr:{addr}", per_address)]


def _retry_after(address: str, username: str) -> int | None:
    """Seconds until sign-in is allowed again, or None when it is allowed now."""
    now = time.time()
    keys = _keys(address, username)
    counts = cache.get_many([key for key, _ in keys] + [f"{key}:until" for key, _ in keys])
    waits = [
        int(counts.get(f"{key}:until", now) - now) + 1 for key, limit in keys if counts.get(key, 0) >= limit
    ]
    return max(waits) if waits else None


def _count_failure(address: str, username: str) -> None:
    window = _limits()[2]
    for key, _ in _keys(address, username):
        # Fixed window from the first failure; `add` only sets keys that do not exist yet.
        if cache.add(key, 0, timeout=window):
            cache.set(f"{key}:until", time.time() + window, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start a new window
            cache.set(key, 1, timeout=window)
            cache.set(f"{key}:until", time.time() + window, timeout=window)


def too_many_attempts(retry_after: int) -> HttpResponse:
    minutes = max(1, round(retry_after / 60))
    response = HttpResponse(
        "Too many failed sign-in attempts. Try again in about "
        f"{minutes} minute{'s' if minutes != 1 else ''}.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    return response


class LoginThrottleMiddleware:
    """Answers 429 to a sign-in POST once its address, or address and username, failed too often."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEWS:
            return None
        username = str(request.POST.get("username", ""))[:150]
        try:
            wait = _retry_after(client_address(request), username)
        except Exception:  # the cache is down: sign-in stays possible, unlimited, and it is logged
            log.warning("sign-in limit unavailable: the cache does not answer", exc_info=True)
            return None
        if wait is None:
            return None
        log.warning("sign-in refused: too many failures", extra={"retry_after": wait})
        return too_many_attempts(wait)


@receiver(user_login_failed, dispatch_uid="driftwatch-login-failed")
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    if request is None:
        return
    try:
        _count_failure(client_address(request), str(credentials.get("username", ""))[:150])
    except Exception:
        log.warning("sign-in limit unavailable: the cache does not answer", exc_info=True)


@receiver(user_logged_in, dispatch_uid="driftwatch-logged-in")
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """A successful sign-in clears its (address, username) count, not the address's."""
    if request is None:
        return
    try:
        key = _keys(client_address(request), user.get_username())[0][0]
        cache.delete_many([key, f"{key}:until"])
    except Exception:
        log.warning("sign-in limit unavailable: the cache does not answer", exc_info=True)
