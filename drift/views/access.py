"""Who may see a page: every page needs a signed-in person with a role; some need a higher one."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from drift.roles import ADMIN, ANALYST, FRONTLINE, VIEWER, role_at_least, user_role
from monitoring_site.errors import NotFound

View = Callable[..., HttpResponse]


def role_required(needed: str = VIEWER) -> Callable[[View], View]:
    """Signed out → the login page (and back); signed in without the role → 403 with what to do."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("login"))
            role = user_role(request.user)
            if not role_at_least(role, needed):
                ctx = {"needed": needed, "role": role}
                return render(request, "drift/forbidden.html", page_ctx(request, ctx), status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapper

    return decorate


def nav_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The navigation a role may use (nothing it may not)."""
    role = user_role(request.user)
    items = [{"label": "Portfolio", "href": reverse("drift:portfolio"), "section": "portfolio"}]
    # Every role reads events and incidents (as in the API); acting on them is analyst work.
    items.append({"label": "Events", "href": reverse("governance:events"), "section": "events"})
    items.append({"label": "Incidents", "href": reverse("governance:incidents"), "section": "incidents"})
    # Read by every role too; drills and retraining requests are linked from these two pages' heads.
    items.append(
        {"label": "Postmortems", "href": reverse("governance:postmortems"), "section": "postmortems"}
    )
    items.append({"label": "Runbooks", "href": reverse("governance:runbooks"), "section": "runbooks"})
    # Every role reads experiments; stopping one and recording its decision is analyst work.
    items.append({"label": "Experiments", "href": reverse("drift:experiments"), "section": "experiments"})
    if role_at_least(role, FRONTLINE):  # frontline users follow their flags there; analysts triage them
        items.append({"label": "Triage", "href": reverse("governance:triage"), "section": "triage"})
    if role_at_least(role, ANALYST):
        items.append({"label": "API docs", "href": reverse("api-docs"), "section": "api"})
    if role_at_least(role, ADMIN) or (role_at_least(role, ANALYST) and request.user.is_staff):
        items.append({"label": "Admin", "href": reverse("admin:index"), "section": "admin"})
    return items


def page_ctx(request: HttpRequest, ctx: dict[str, Any], section: str = "") -> dict[str, Any]:
    role = user_role(request.user)
    return {
        **ctx,
        "nav": nav_for(request) if role else [],
        "section": section,
        "role": role,
        "can_analyse": role_at_least(role, ANALYST),
        "can_explore": role_at_least(role, FRONTLINE),
    }
