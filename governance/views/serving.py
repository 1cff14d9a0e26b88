"""The serving mode on governance pages: what it is, and an analyst's form to change it (with a reason),
as `POST /api/v1/models/{slug}/serving-mode/` does."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from drift.models import MonitoredModel
from drift.roles import ANALYST
from drift.selectors import model_for
from drift.views.access import role_required
from governance import selectors
from governance.models import ServingMode
from governance.services.gate import serving_mode_set
from governance.views.support import text_field
from monitoring_site.errors import ApplicationError


def serving_ctx(request: HttpRequest, model: MonitoredModel) -> dict[str, Any]:
    """What `governance/_serving.html` needs: the decision (mode, reason, since) and the form's choices."""
    return {
        "decision": selectors.serving_decision(request.user, model.slug),
        "modes": ServingMode.choices,
        "back": request.path,
    }


def _back(request: HttpRequest, model: MonitoredModel) -> str:
    """Where the form came from (a path on this site only), else the model's page."""
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("drift:model", args=[model.slug])


@require_POST
@role_required(ANALYST)
def serving_mode_change(request: HttpRequest, slug: str) -> HttpResponse:
    model = model_for(request.user, slug)
    before = selectors.serving_mode_of(model)
    try:
        # The service checks the mode and the reason (required, and not too long).
        state = serving_mode_set(
            model=model,
            mode=text_field(request.POST, "mode", required=True, limit=40),
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        label = ServingMode(state.mode).label.lower()
        if state.mode == before:
            messages.info(request, f"{model.name} already serves in {label} mode; nothing changed.")
        else:
            messages.success(request, f"{model.name} now serves in {label} mode.")
    return redirect(_back(request, model))
