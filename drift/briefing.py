"""What the dashboards say about a model: its health status, its business impact in money, and the
three-part story (what changed / why it matters / what happens next). Pure: plain dicts in, no Django.

Inputs are *run summaries*: the few keys of each analysis section the pages need (see
`drift.page_selectors.run_summaries`), e.g. ``{"rows": 600, "data_drift": {"status": "ok",
"share_drifted": 0.4}, "performance": {...}, ...}``.

Health rule (shown on the portfolio page as well):

* **act** when the model's serving mode is not normal, an open event is critical, the headline metric
  (accuracy; mean absolute error for regression), realised or estimated, is flagged worse than the
  reference by at least 5 points (20 % relative for an error), or at least 30 % of the compared features
  changed;
* **watch** when any feature or the joint distribution changed, the headline metric is flagged worse at
  all, a data-quality check or an operations check (errors, latency) alerts, a fairness gap is flagged,
  an event is open, or there is no recent finished analysis;
* **healthy** otherwise.

Example:
    >>> health_status({"data_drift": {"status": "ok", "share_drifted": 0.5}}, serving_mode="normal").status
    'act'
    >>> health_status({"data_drift": {"status": "ok", "share_drifted": 0.0}}, serving_mode="normal").status
    'healthy'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drift.formatting import money, percent
from drift.narratives import narrate

HEALTHY, WATCH, ACT = "healthy", "watch", "act"
ACT_SHARE_DRIFTED = 0.30
ACT_ACCURACY_DROP = 0.05
ACT_ERROR_RISE = 0.20
# Labels must cover at least this share of a window before its realised value replaces the estimate.
MIN_LABEL_COVERAGE = 0.5
# Fewer labelled outcomes than this make a measured metric too noisy to chart or trend.
MIN_LABELLED = 30
MODE_WORDS = {
    "normal": "serving normally",
    "human_review": "routing decisions to human review",
    "fallback": "serving the fallback instead of the model",
    "paused": "paused",
}
# The rule in words, for the pages (keep in step with `health_status` and the module docstring).
RULE = (
    (
        ACT,
        "the model is not serving normally, a critical event is open, accuracy (measured or estimated) is "
        "at least 5 points below the reference (an error 20% above it), or at least 30% of the inputs "
        "changed against the reference.",
    ),
    (
        WATCH,
        "some inputs changed, the headline metric is worse than the reference at all, a data-quality, "
        "error-rate, latency or fairness check alerts, an event is open, or there is no recent analysis.",
    ),
    (HEALTHY, "none of the above in the latest analysis."),
)
WHAT_CHANGED = ("data_drift", "data_quality", "concept_drift", "attribution", "operations")
WHY_IT_MATTERS = ("performance", "estimated_performance", "calibration", "fairness")


@dataclass(frozen=True)
class Health:
    status: str
    reasons: tuple[str, ...] = ()


def primary_metric(task: str) -> tuple[str, str, bool]:
    """(key, plain name, higher is better) of the metric the pages lead with."""
    if task == "regression":
        return "mae", "Mean absolute error", False
    return "accuracy", "Accuracy", True


def _metric_drop(section: Mapping[str, Any] | None, key: str, higher_better: bool) -> float | None:
    """How much worse than the reference the metric is (points, or relative for errors); None if unknown."""
    m = ((section or {}).get("metrics") or {}).get(key) or {}
    value, ref = m.get("value"), m.get("reference")
    if value is None or ref is None:
        return None
    if higher_better:
        return ref - value
    return (value - ref) / ref if ref else None


def _degraded(section: Mapping[str, Any] | None, key: str) -> bool:
    s = section or {}
    return s.get("status") == "ok" and key in (s.get("degraded") or [])


def health_status(
    summary: Mapping[str, Any] | None,
    *,
    serving_mode: str = "normal",
    open_events: Sequence[Mapping[str, Any]] = (),
    task: str = "binary_classification",
    stale: bool = False,
) -> Health:
    """The status by the rule in the module docstring, with the reasons that decided it (plain words)."""
    act: list[str] = []
    watch: list[str] = []
    if serving_mode and serving_mode != "normal":
        act.append(f"The model is {MODE_WORDS.get(serving_mode, serving_mode)}.")
    critical = [e for e in open_events if e.get("severity") == "critical"]
    if critical:
        act.append(f"{len(critical)} critical event{'s' if len(critical) > 1 else ''} open.")
    elif open_events:
        watch.append(f"{len(open_events)} event{'s' if len(open_events) > 1 else ''} open.")
    if summary is None:
        watch.append("No finished analysis yet.")
    else:
        if stale:
            watch.append("The latest analysis is out of date.")
        _judge_results(summary, task, act, watch)
    if act:
        return Health(ACT, tuple(act + watch))
    if watch:
        return Health(WATCH, tuple(watch))
    return Health(HEALTHY, ("Nothing notable in the latest analysis.",))


def _judge_results(summary: Mapping[str, Any], task: str, act: list[str], watch: list[str]) -> None:
    drift = summary.get("data_drift") or {}
    share = drift.get("share_drifted")
    if drift.get("status") == "ok" and share is not None:
        if share >= ACT_SHARE_DRIFTED:
            act.append(f"{percent(share)} of the inputs changed against the reference.")
        elif share > 0:
            watch.append(f"{percent(share)} of the inputs changed against the reference.")
        elif drift.get("multivariate_drifted"):
            watch.append("The inputs move together differently than in the reference.")
    key, name, higher = primary_metric(task)
    for section, how in (("performance", "measured"), ("estimated_performance", "estimated")):
        part = summary.get(section)
        if not _degraded(part, key):
            continue
        drop = _metric_drop(part, key, higher)
        shown = f"{abs(drop) * 100:.1f} points" if higher else percent(drop)
        text = f"{name} ({how}) is {shown} worse than the reference." if drop is not None else ""
        limit = ACT_ACCURACY_DROP if higher else ACT_ERROR_RISE
        (act if drop is not None and drop >= limit else watch).append(
            text or f"{name} ({how}) is worse than the reference."
        )
        break  # realised outranks estimated: judge one of them
    alerts = (summary.get("data_quality") or {}).get("alerts") or []
    if alerts:
        watch.append(f"{len(alerts)} data-quality check{'s' if len(alerts) > 1 else ''} alerting.")
    ops = summary.get("operations") or {}
    if ops.get("errors_status") == "alert":
        watch.append(f"{percent(ops.get('error_rate'))} of predictions failed.")
    if (ops.get("latency_ms") or {}).get("slower"):
        watch.append("Responses are slower than usual.")
    if (summary.get("fairness") or {}).get("flags"):
        watch.append("Positive decisions differ between groups.")


@dataclass(frozen=True)
class Impact:
    """Value of the decisions over some windows, and what the reference's rate would have given."""

    currency: str
    total: float
    rows: int
    realised_windows: int
    estimated_windows: int
    reference_total: float | None = None
    per_window: tuple[tuple[str, float, str], ...] = field(default=())  # (window, value, basis)

    @property
    def difference(self) -> float | None:
        return None if self.reference_total is None else self.total - self.reference_total

    @property
    def basis(self) -> str:
        if self.estimated_windows and self.realised_windows:
            return (
                f"{self.realised_windows} window{'s' if self.realised_windows > 1 else ''} from labelled "
                f"outcomes, {self.estimated_windows} estimated while labels are pending"
            )
        if self.realised_windows:
            return "from labelled outcomes"
        return "estimated from the model's confidence (labels not in yet)"


def _window_value(summary: Mapping[str, Any], values: Mapping[str, float | None]) -> tuple[float, str] | None:
    """(value per prediction, "realised" | "estimated") for one window, or None when unknown."""
    perf = summary.get("performance") or {}
    business = perf.get("business") or {}
    if perf.get("status") == "ok" and (perf.get("coverage") or 0) >= MIN_LABEL_COVERAGE:
        if business.get("per_prediction") is not None:
            return float(business["per_prediction"]), "realised"
        if business.get("cost_per_prediction") is not None:
            return -float(business["cost_per_prediction"]), "realised"
    est = summary.get("estimated_performance") or {}
    confusion = est.get("expected_confusion") or {}
    known = [k for k in ("tp", "fp", "tn", "fn") if values.get(k) is not None]
    n = sum(float(confusion.get(k) or 0) for k in ("tp", "fp", "tn", "fn"))
    if est.get("status") == "ok" and known and n:
        total = sum(float(confusion.get(k) or 0) * float(values[k] or 0) for k in known)
        return total / n, "estimated"
    return None


def business_impact(
    summaries: Sequence[Mapping[str, Any]],
    *,
    values: Mapping[str, float | None],
    currency: str,
    reference_per_prediction: float | None = None,
) -> Impact | None:
    """Sum over windows of (value per prediction x predictions); realised from labels when they cover
    the window, else estimated from the expected confusion matrix. None when no window has a value."""
    total, rows, realised, estimated = 0.0, 0, 0, 0
    per_window = []
    for s in summaries:
        found = _window_value(s, values)
        n = int(s.get("rows") or 0)
        if found is None or not n:
            continue
        per_prediction, basis = found
        total += per_prediction * n
        rows += n
        realised += basis == "realised"
        estimated += basis == "estimated"
        per_window.append((str(s.get("window_start", "")), per_prediction * n, basis))
    if not rows:
        return None
    ref_total = reference_per_prediction * rows if reference_per_prediction is not None else None
    return Impact(currency, total, rows, realised, estimated, ref_total, tuple(per_window))


def impact_sentence(impact: Impact | None, windows: int) -> str:
    if impact is None:
        return (
            "Business impact is not known yet: set the value of each outcome on the model, "
            "or wait for the first analysis."
        )
    head = (
        f"Over the last {windows} analysed window{'s' if windows > 1 else ''}, the model's decisions were "
        f"worth {money(impact.total, impact.currency)} ({impact.basis})"
    )
    diff = impact.difference
    if diff is None or abs(diff) < 0.005 * max(abs(impact.total), 1.0):
        return head + "."
    side = "more" if diff > 0 else "less"
    return (
        f"{head}: {money(abs(diff), impact.currency)} {side} than the reference's rate would have given "
        f"for the same {impact.rows:,} predictions."
    )


SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9'])")


def first_sentence(text: str) -> str:
    parts = SENTENCE.split(text.strip(), maxsplit=1)
    return parts[0] if parts and parts[0] else text


def story(
    results: Mapping[str, Any],
    *,
    impact_text: str,
    kpi: str = "",
    serving: Mapping[str, Any] | None = None,
    open_events: Sequence[Mapping[str, Any]] = (),
    open_incidents: Sequence[Mapping[str, Any]] = (),
    owner: str = "",
    schedule: str = "",
) -> dict[str, str]:
    """The model page's three paragraphs, from one run's results and the governance state."""
    changed = narrate({k: results[k] for k in WHAT_CHANGED if results.get(k)})
    matters = narrate({k: results[k] for k in WHY_IT_MATTERS if results.get(k)})
    if matters == "Nothing notable changed in this window.":
        matters = "Performance shows nothing notable in this window."
    why = " ".join(
        s for s in (matters, impact_text, f"The model serves this goal: {kpi}" if kpi else "") if s
    )
    return {
        "what_changed": changed,
        "why_it_matters": why,
        "what_next": _next(serving, open_events, open_incidents, owner, schedule),
    }


def _next(
    serving: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]],
    owner: str,
    schedule: str,
) -> str:
    out = []
    mode = (serving or {}).get("mode") or "normal"
    if mode != "normal":
        reason = (serving or {}).get("reason") or "no reason recorded"
        out.append(f"The model is {MODE_WORDS.get(mode, mode)} ({reason}); only a person can move it back.")
    if events:
        titles = "; ".join(f"{e['title']} ({e.get('status', 'open')})" for e in events[:3])
        more = f" and {len(events) - 3} more" if len(events) > 3 else ""
        out.append(f"Open events: {titles}{more}.")
    if incidents:
        out.append(
            "Incidents in progress: "
            + "; ".join(f"{i['severity']} {i['title']}" for i in incidents[:3])
            + "."
        )
    if not events and not incidents and mode == "normal":
        out.append("No open events: nothing is waiting on anyone.")
    if owner:
        out.append(f"{owner} owns this model.")
    if schedule:
        out.append(schedule)
    return " ".join(out)
