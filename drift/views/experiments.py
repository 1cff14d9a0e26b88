"""Experiment pages: the list (filters, pages, CSV) and one experiment (summary first, charts, tables),
where an analyst stops a running experiment or records the decision on a stopped one.

Writes go through `drift.services.experiments` (promotion through governance's `version_promote`);
a refusal re-renders the page with the service's message and its 4xx status, the typed reason kept.
"""

import csv
import re
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from drift import formatting
from drift.engine.experiments import METRICS
from drift.models import Decision, ExperimentStatus, PrimaryMetric
from drift.page_selectors.experiments import (
    STATUS_BADGE,
    experiment_figures,
    experiment_page,
    experiment_tables,
    experiments_filtered,
)
from drift.roles import ANALYST
from drift.selectors import models_visible_to
from drift.selectors_experiments import experiment_for
from drift.services.experiments import MAX_REASON, experiment_decide, experiment_stop
from drift.views.access import page_ctx, role_required
from drift.views.common import charts, csv_response, with_csv
from governance.services.audit import Actor
from monitoring_site.errors import ApplicationError

PER_PAGE = 20
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LIST_HEADER = [
    "id",
    "model",
    "name",
    "status",
    "mode",
    "primary_metric",
    "control",
    "challengers",
    "started_at",
    "stopped_at",
    "stop_reason",
    "decision",
]


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        f"{field.replace('_', ' ')}: {message}", errors=[{"field": field, "message": message}]
    )


def _row(experiment: Any) -> dict[str, Any]:
    arms = sorted(experiment.arms.all(), key=lambda a: a.position)
    decisions = sorted(experiment.decisions.all(), key=lambda d: (d.at, d.pk))
    return {
        "experiment": experiment,
        "badge": STATUS_BADGE.get(experiment.status, "none"),
        "control": next((a.version.version for a in arms if a.is_control), ""),
        "challengers": [a.version.version for a in arms if not a.is_control],
        "decision": decisions[-1] if decisions else None,
    }


def _list_csv(rows: list[dict[str, Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="driftwatch-experiments.csv"'
    writer = csv.writer(response)
    writer.writerow(LIST_HEADER)
    for r in rows:
        e = r["experiment"]
        writer.writerow(
            [
                e.pk,
                e.model.slug,
                e.name,
                e.status,
                e.mode,
                e.primary_metric,
                r["control"],
                " ".join(r["challengers"]),
                e.started_at.isoformat() if e.started_at else "",
                e.stopped_at.isoformat() if e.stopped_at else "",
                e.stop_reason,
                r["decision"].decision if r["decision"] else "",
            ]
        )
    return response


@role_required()
def experiments_list(request: HttpRequest) -> HttpResponse:
    filters = {"model": request.GET.get("model", "")[:80], "status": request.GET.get("status", "")[:16]}
    error = ""
    try:
        experiments = experiments_filtered(request.user, **filters)
    except ApplicationError as exc:
        experiments, error = experiments_filtered(request.user).none(), exc.message
    if request.GET.get("format") == "csv":
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return _list_csv([_row(e) for e in experiments])
    page = Paginator(experiments, PER_PAGE).get_page(request.GET.get("page"))

    def query(**changes: Any) -> str:
        params = request.GET.copy()
        for key, value in changes.items():
            params[key] = value
        return params.urlencode()

    ctx = {
        "page": page,
        "rows": [_row(e) for e in page.object_list],
        "filters": filters,
        "filtered": any(filters.values()),
        "error": error,
        "statuses": ExperimentStatus.choices,
        "models": models_visible_to(request.user).order_by("name").values("slug", "name"),
        "previous": query(page=page.previous_page_number()) if page.has_previous() else "",
        "next": query(page=page.next_page_number()) if page.has_next() else "",
        "csv": query(format="csv", page="1"),
    }
    return render(
        request, "drift/experiments.html", page_ctx(request, ctx, "experiments"), status=400 if error else 200
    )


def _detail(
    request: HttpRequest,
    pk: int,
    *,
    refused: ApplicationError | None = None,
    action: str = "",
    status: int = 200,
) -> HttpResponse:
    page = experiment_page(request.user, pk)
    base = reverse("drift:experiment", args=[pk]) + "tables/"
    ctx = {
        "page": page,
        "experiment": page.experiment,
        "results": page.results,
        "charts": charts(experiment_figures(page)),
        "tables": with_csv(request, experiment_tables(page), base),
        "decisions": [(value, _decision_label(value, page)) for value in Decision.values],
        "metric_label": PrimaryMetric(page.experiment.primary_metric).label,
        "mde_text": _mde_text(page),
        "refused": {"action": action, "message": refused.message, "fields": _fields(refused)}
        if refused
        else None,
        "posted": request.POST if refused else {},
    }
    return render(request, "drift/experiment.html", page_ctx(request, ctx, "experiments"), status=status)


def _mde_text(page: Any) -> str:
    mde = page.experiment.minimum_detectable_effect
    if METRICS[page.experiment.primary_metric].kind == "proportion":
        return formatting.points(mde).lstrip("+")
    if page.experiment.primary_metric == "business_value":
        return f"{formatting.money(mde, page.currency)} per prediction"
    return formatting.number(mde)


def _decision_label(value: str, page: Any) -> str:
    if value == Decision.PROMOTE:
        return "Promote the challenger" if len(page.challengers) == 1 else "Promote a challenger"
    if value == Decision.REVERT:
        return f"Keep the champion ({page.control})"
    return "Extend the experiment"


def _status(exc: ApplicationError) -> int:
    """A refusal's status: the service's 4xx (a 403 from governance's role gate stays a 403)."""
    return exc.status if 400 <= exc.status < 500 else 400


def _fields(exc: ApplicationError) -> list[str]:
    return [str(e.get("field")) for e in exc.errors if e.get("field")]


@role_required()
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


@role_required()
def experiment_table_csv(request: HttpRequest, pk: int, table: str) -> HttpResponse:
    page = experiment_page(request.user, pk)
    found = next((t for t in experiment_tables(page) if t.name == table), None)
    if found is None:
        raise Http404(f"No table '{table[:40]}'.")
    return csv_response(found, slugify(f"experiment-{pk}-{page.experiment.name}")[:80])


def _reason(data: QueryDict) -> str:
    reason = data.get("reason", "").strip()
    if not reason:
        raise _field_error("reason", "required: say why, for the record")
    if len(reason) > MAX_REASON:
        raise _field_error("reason", f"at most {MAX_REASON:,} characters")
    return reason


def _decision_fields(data: QueryDict) -> dict[str, Any]:
    """The decision form, parsed at the edge: each bad value is a 400 naming its field."""
    decision = data.get("decision", "")
    if decision not in Decision.values:
        raise _field_error("decision", f"one of {', '.join(Decision.values)}")
    fields: dict[str, Any] = {"decision": decision, "reason": _reason(data)}
    version = data.get("version", "").strip()
    if decision == Decision.PROMOTE and version:
        if not VERSION.match(version):
            raise _field_error("version", "a version name of this experiment")
        fields["version"] = version
    days = data.get("extend_days", "").strip()
    if decision == Decision.EXTEND and days:
        if not days.isdigit() or not 1 <= int(days) <= 365:
            raise _field_error("extend_days", "a whole number of days between 1 and 365")
        fields["extend_days"] = int(days)
    return fields


@require_POST
@role_required(ANALYST)
def experiment_decision(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = experiment_for(request.user, pk)
    try:
        record = experiment_decide(
            experiment=experiment, actor=Actor.of(request.user), **_decision_fields(request.POST)
        )
    except ApplicationError as exc:
        return _detail(request, pk, refused=exc, action="decide", status=_status(exc))
    messages.success(request, f"Decision recorded: {record.get_decision_display().lower()}.")
    return redirect("drift:experiment", pk=pk)


@require_POST
@role_required(ANALYST)
def experiment_halt(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = experiment_for(request.user, pk)
    try:
        experiment_stop(experiment=experiment, reason=_reason(request.POST), actor=Actor.of(request.user))
    except ApplicationError as exc:
        return _detail(request, pk, refused=exc, action="stop", status=_status(exc))
    messages.success(
        request, "Experiment stopped: all traffic goes to the control until a decision is recorded."
    )
    return redirect("drift:experiment", pk=pk)
