"""The permission matrix: every URL the URLconf exposes, each method, and what each principal gets.

To add a row: append `Row("<url name>", "<METHOD>", <rule>, <kwargs from World>)` to ROWS (a page that
takes POSTs gets a second row); when no rule in RULES fits, add one and the same row to README.md's table.

`tests/site/test_permission_matrix.py` calls every row as every principal, fails for any route or API
method without a row, and checks that README.md's "Roles and permissions" table lists RULES exactly.
The Django admin is one family: its index and one changelist stand for everything under /admin/.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.site.permission_world import PRINCIPALS, World

# What a principal gets. Allowed: anything but 401, 403, 404, 405, a 5xx or a redirect to a sign-in
# page (a 400 for the empty body a write is sent counts: the permission check passed); a GET must 2xx/3xx.
OK = "✓"
LOGIN = "sign-in page"  # a redirect to /login/ (or the admin's) with ?next=
Outcome = str | int


@dataclass(frozen=True)
class Rule:
    label: str  # the first cell of its README row, word for word
    outcomes: tuple[Outcome, ...]  # one per principal, in PRINCIPALS order

    def __post_init__(self) -> None:
        assert len(self.outcomes) == len(PRINCIPALS), self.label


# fmt: off
RULES: dict[str, Rule] = {
    #               anonymous  viewer  frontline  analyst  admin  own_key  other_key
    "public": Rule(
        "public: sign-in and sign-out, probes (`/healthz`, `/readyz`), API schema and docs, static files",
                   (OK,        OK,     OK,        OK,      OK,    OK,      OK)),
    "page": Rule(
        "read a page and its CSV downloads (portfolio, models, reports, experiments, governance)",
                   (LOGIN,     OK,     OK,        OK,      OK,    LOGIN,   LOGIN)),
    "page frontline": Rule(
        "prediction explorer, flag form and triage queue; flag something or add an incident note from a page",
                   (LOGIN,     403,    OK,        OK,      OK,    LOGIN,   LOGIN)),
    "page action": Rule(
        "act from a page: re-run an analysis, decide or stop an experiment, every governance form",
                   (LOGIN,     403,    403,       OK,      OK,    LOGIN,   LOGIN)),
    "page admin": Rule(
        "close an incident from its page",
                   (LOGIN,     403,    403,       403,     OK,    LOGIN,   LOGIN)),
    "staff": Rule(
        "Django admin (`/admin/`): staff users (the admin here is staff)",
                   (LOGIN,     LOGIN,  LOGIN,     LOGIN,   OK,    LOGIN,   LOGIN)),
    "metrics": Rule(
        "Prometheus metrics (`/metrics`): staff, or `Authorization: Bearer <DRIFTWATCH_METRICS_TOKEN>`",
                   (401,       403,    403,       403,     OK,    401,     401)),
    "api list models": Rule(
        "list models (`GET /api/v1/models/`; a key sees only its own model)",
                   (401,       OK,     OK,        OK,      OK,    OK,      OK)),
    "api read model": Rule(
        "read a model, its versions, predictions, health, serving decision, allocation",
                   (401,       OK,     OK,        OK,      OK,    OK,      403)),
    "api read": Rule(
        "read analyses, experiments and governance records (API)",
                   (401,       OK,     OK,        OK,      OK,    403,     403)),
    "api read analyst": Rule(
        "read notification channels, deliveries, the retraining pipeline",
                   (401,       403,    403,       OK,      OK,    403,     403)),
    "api write": Rule(
        "register and change models, versions, references, schedules, policies, serving modes, "
        "experiments, incidents, runbooks, postmortems, retraining, drills; triage annotations",
                   (401,       403,    403,       OK,      OK,    403,     403)),
    "api write frontline": Rule(
        "flag predictions, time ranges and segments (annotations); add incident timeline notes",
                   (401,       403,    OK,        OK,      OK,    403,     403)),
    "api write admin": Rule(
        "set the escalation path; resolve (close) an incident",
                   (401,       403,    403,       403,     OK,    403,     403)),
    "telemetry": Rule(
        "send predictions, outcomes, health samples",
                   (401,       403,    403,       OK,      OK,    OK,      403)),
    "retraining read": Rule(
        "read one retraining request (the pipeline, with its model's key)",
                   (401,       OK,     OK,        OK,      OK,    OK,      404)),
    "retraining report": Rule(
        "move a retraining request on (the pipeline reports running, completed, rejected)",
                   (401,       403,    403,       OK,      OK,    OK,      404)),
    "api unknown": Rule(
        "any other path under `/api/`",
                   (404,       404,    404,       404,     404,   404,     404)),
}
# fmt: on

# The README table's header: the principals, in PRINCIPALS order, after the rule's label.
README_HEADER = (
    "access", "anonymous", "viewer", "frontline", "analyst", "admin", "own model's key", "another model's key"
)  # fmt: skip


def readme_markdown() -> str:
    """The README table as Markdown, to paste after changing RULES:
    `.venv/bin/python -c "from tests.site.permission_matrix import readme_markdown as t; print(t())"`."""
    lines = ["| " + " | ".join(README_HEADER) + " |", "|" + "---|" * len(README_HEADER)]
    lines += ["| " + " | ".join([r.label, *map(str, r.outcomes)]) + " |" for r in RULES.values()]
    return "\n".join(lines)


Kwargs = Callable[[World], dict[str, Any]]


def none(w: World) -> dict[str, Any]:
    return {}


def model(w: World) -> dict[str, Any]:
    return {"slug": w.slug}


def version(w: World) -> dict[str, Any]:
    return {"slug": w.slug, "version": w.version}


def pk(attribute: str) -> Kwargs:
    """`pk("event")`: the URL's `pk` is the world's event."""
    return lambda w: {"pk": getattr(w, attribute)}


@dataclass(frozen=True)
class Row:
    url: str  # a URL name for reverse(), or a literal path starting with "/"
    method: str
    rule: str  # a key of RULES
    kwargs: Kwargs = none
    body: dict[str, Any] = field(default_factory=dict)  # sent with a write: JSON to the API, a form to pages
    covers: str = ""  # a route prefix the row stands for (the Django admin)


GET, POST, PUT, PATCH, DELETE = "GET", "POST", "PUT", "PATCH", "DELETE"

ROWS: list[Row] = [
    # --- site ----------------------------------------------------------------------------------------
    Row("login", GET, "public"),
    Row("login", POST, "public"),
    Row("login", PUT, "public"),  # Django's form views treat PUT as POST
    Row("logout", POST, "public"),
    Row("healthz", GET, "public"),
    Row("readyz", GET, "public"),
    Row("metrics", GET, "metrics"),
    Row("/static/css/driftwatch.css", GET, "public"),  # WhiteNoise, outside the URLconf
    Row("admin:index", GET, "staff", covers="admin/"),
    Row("admin:drift_monitoredmodel_changelist", GET, "staff", covers="admin/"),
    Row("api-schema", GET, "public"),
    Row("api-docs", GET, "public"),
    Row("/api/v1/nothing-here/", GET, "api unknown"),
    # --- dashboards (drift/urls.py) --------------------------------------------------------------------
    Row("drift:portfolio", GET, "page"),
    Row("drift:portfolio-csv", GET, "page"),
    Row("drift:model", GET, "page", model),
    Row("drift:model-table", GET, "page", lambda w: {"slug": w.slug, "table": "events"}),
    Row("drift:model-reanalyse", POST, "page action", model),
    Row("drift:predictions", GET, "page frontline", model),
    Row("drift:prediction", GET, "page frontline", lambda w: {"slug": w.slug, "record_id": w.record}),
    Row("drift:feature", GET, "page", lambda w: {"slug": w.slug, "name": w.feature}),
    Row(
        "drift:feature-table",
        GET,
        "page",
        lambda w: {"slug": w.slug, "name": w.feature, "table": "lineage"},
    ),
    Row("drift:model-report", GET, "page", model),
    Row("drift:model-report-table", GET, "page", lambda w: {"slug": w.slug, "table": "actions"}),
    Row("drift:experiments", GET, "page"),
    Row("drift:experiment", GET, "page", pk("experiment")),
    Row("drift:experiment-table", GET, "page", lambda w: {"pk": w.experiment, "table": "arms"}),
    Row("drift:experiment-decide", POST, "page action", pk("experiment")),
    Row("drift:experiment-stop", POST, "page action", pk("experiment")),
    # --- governance pages (governance/urls.py): each page reads for every role, its forms need more -----
    Row("governance:events", GET, "page"),
    Row("governance:event", GET, "page", pk("event")),
    Row("governance:event-acknowledge", POST, "page action", pk("event")),
    Row("governance:event-transition", POST, "page action", pk("event")),
    Row("governance:event-incident", POST, "page action", pk("event")),
    Row("governance:incidents", GET, "page"),
    Row("governance:incident", GET, "page", pk("incident")),
    Row("governance:incident-transition", POST, "page action", pk("incident")),
    Row("governance:incident-transition", POST, "page admin", pk("incident"), {"to": "resolved"}),
    Row("governance:incident-note", POST, "page frontline", pk("incident")),
    Row("governance:serving-mode", POST, "page action", model),
    Row("governance:triage", GET, "page frontline"),
    Row("governance:triage", POST, "page action"),
    Row("governance:annotation-flag", GET, "page frontline", model),
    Row("governance:annotation-flag", POST, "page frontline", model),
    Row("governance:postmortems", GET, "page"),
    Row("governance:postmortems", POST, "page action"),
    Row("governance:postmortem", GET, "page", pk("postmortem")),
    Row("governance:postmortem", POST, "page action", pk("postmortem")),
    Row("governance:runbooks", GET, "page"),
    Row("governance:runbooks", POST, "page action"),
    Row("governance:runbook", GET, "page", pk("runbook")),
    Row("governance:runbook", POST, "page action", pk("runbook")),
    Row("governance:drills", GET, "page"),
    Row("governance:drills", POST, "page action"),
    Row("governance:drill", GET, "page", pk("drill")),
    Row("governance:drill", POST, "page action", pk("drill")),
    Row("governance:retraining-requests", GET, "page"),
    Row("governance:retraining-requests", POST, "page action"),
    Row("governance:retraining-request", GET, "page", pk("retraining_request")),
    Row("governance:retraining-request", POST, "page action", pk("retraining_request")),
    # --- registry and telemetry API (drift/api/urls.py) ------------------------------------------------
    Row("api-models", GET, "api list models"),
    Row("api-models", POST, "api write"),
    Row("api-model", GET, "api read model", model),
    Row("api-model", PATCH, "api write", model),
    Row("api-versions", GET, "api read model", model),
    Row("api-versions", POST, "api write", model),
    Row("api-version", GET, "api read model", version),
    Row("api-version", PATCH, "api write", version),
    Row("api-reference", POST, "api write", version),
    Row("api-predictions", GET, "api read model", model),
    Row("api-predictions", POST, "telemetry", model),
    Row("api-outcomes", POST, "telemetry", model),
    Row("api-health", GET, "api read model", model),
    Row("api-health", POST, "telemetry", model),
    Row("api-model-analyses", GET, "api read", model),
    Row("api-model-analyses", POST, "api write", model),
    Row("api-model-schedule", GET, "api read", model),
    Row("api-model-schedule", PATCH, "api write", model),
    Row("api-analysis", GET, "api read", pk("run")),
    Row("api-experiments", GET, "api read"),
    Row("api-experiments", POST, "api write"),
    Row("api-experiment", GET, "api read", pk("experiment")),
    Row("api-experiment", PATCH, "api write", pk("experiment")),
    Row("api-experiment", DELETE, "api write", pk("experiment")),
    Row("api-experiment-start", POST, "api write", pk("experiment")),
    Row("api-experiment-stop", POST, "api write", pk("experiment")),
    Row("api-experiment-decision", POST, "api write", pk("experiment")),
    Row("api-experiment-results", GET, "api read", pk("experiment")),
    Row("api-model-allocation", GET, "api read model", model),
    # --- governance API (governance/api/urls.py) -------------------------------------------------------
    Row("api-audit", GET, "api read"),
    Row("api-audit-export", GET, "api read"),
    Row("api-model-policies", GET, "api read", model),
    Row("api-model-policies", POST, "api write", model),
    Row("api-policy", GET, "api read", pk("policy")),
    Row("api-policy", PUT, "api write", pk("policy")),
    Row("api-policy", PATCH, "api write", pk("policy")),
    Row("api-policy", DELETE, "api write", pk("policy")),
    Row("api-events", GET, "api read"),
    Row("api-event", GET, "api read", pk("event")),
    Row("api-event-transition", POST, "api write", pk("event")),
    Row("api-serving-decision", GET, "api read model", model),
    Row("api-serving-mode", POST, "api write", model),
    Row("api-model-channels", GET, "api read analyst", model),
    Row("api-model-channels", POST, "api write", model),
    Row("api-channel", GET, "api read analyst", pk("channel")),
    Row("api-channel", PATCH, "api write", pk("channel")),
    Row("api-channel", DELETE, "api write", pk("channel")),
    Row("api-deliveries", GET, "api read analyst"),
    Row("api-incidents", GET, "api read"),
    Row("api-incidents", POST, "api write"),
    Row("api-incident", GET, "api read", pk("incident")),
    Row("api-incident", PATCH, "api write", pk("incident")),
    Row("api-incident-transition", POST, "api write", pk("incident")),
    # Closing an incident is the admin's (the service refuses analysts with 403).
    Row("api-incident-transition", POST, "api write admin", pk("incident"), {"to": "resolved"}),
    Row("api-incident-timeline", POST, "api write frontline", pk("incident")),
    Row("api-escalation", GET, "api read", model),
    Row("api-escalation", PUT, "api write admin", model),
    Row("api-runbooks", GET, "api read"),
    Row("api-runbooks", POST, "api write"),
    Row("api-runbook", GET, "api read", pk("runbook")),
    Row("api-runbook", PUT, "api write", pk("runbook")),
    Row("api-runbook", DELETE, "api write", pk("runbook")),
    Row("api-runbook-version", GET, "api read", lambda w: {"pk": w.runbook, "number": w.runbook_version}),
    Row("api-postmortems", GET, "api read"),
    Row("api-postmortems", POST, "api write"),
    Row("api-postmortem", GET, "api read", pk("postmortem")),
    Row("api-postmortem", PATCH, "api write", pk("postmortem")),
    Row("api-postmortem-transition", POST, "api write", pk("postmortem")),
    Row("api-postmortem-refresh", POST, "api write", pk("postmortem")),
    Row("api-postmortem-action-items", POST, "api write", pk("postmortem")),
    Row("api-action-item", GET, "api read", pk("action_item")),
    Row("api-action-item", PATCH, "api write", pk("action_item")),
    Row("api-retraining-pipeline", GET, "api read analyst", model),
    Row("api-retraining-pipeline", PUT, "api write", model),
    Row("api-model-retraining-requests", GET, "api read", model),
    Row("api-model-retraining-requests", POST, "api write", model),
    Row("api-retraining-requests", GET, "api read"),
    Row("api-retraining-request", GET, "retraining read", pk("retraining_request")),
    Row("api-retraining-transition", POST, "retraining report", pk("retraining_request")),
    Row("api-version-promote", POST, "api write", version),
    Row("api-version-rollback", POST, "api write", version),
    Row("api-model-drills", GET, "api read", model),
    Row("api-model-drills", POST, "api write", model),
    Row("api-drills", GET, "api read"),
    Row("api-drill", GET, "api read", pk("drill")),
    Row("api-drill-end", POST, "api write", pk("drill")),
    Row("api-annotations", GET, "api read"),
    Row("api-annotations", POST, "api write frontline"),
    Row("api-annotation", GET, "api read", pk("annotation")),
    Row("api-annotation-triage", POST, "api write", pk("annotation")),
    Row("api-improvement-tasks", GET, "api read"),
    Row("api-improvement-task", GET, "api read", pk("improvement_task")),
    Row("api-improvement-task", PATCH, "api write", pk("improvement_task")),
]
