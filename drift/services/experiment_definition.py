"""What an experiment is: its checked definition, the criteria locked at start, and its metric's data.

`label_moments` is the one place that turns label fragments into a metric's per-arm, per-day
moments, so planning (the baseline at start) and every look read the metric the same way.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from drift.engine.experiment_guardrails import GUARDRAILS
from drift.engine.experiments import METRICS, Moments, metric_moments
from drift.models import (
    Experiment,
    ExperimentArm,
    ExperimentMode,
    FeatureSpec,
    LabelFragment,
    ModelVersion,
    MonitoredModel,
    ProfileFragment,
    Task,
)
from drift.stats.sequential import SRM_THRESHOLD, mixture_precision, sample_size_per_arm
from monitoring_site.errors import ApplicationError

MAX_CHALLENGERS = 5
BASELINE_DAYS = 30
# Planned pairs when nothing tells the spread of a metric (a regression model with no history).
DEFAULT_PLANNED_N = 5_000
MIN_LABELLED = 200  # per arm before success or futility: the plug-in variance needs a sample
MIN_TRAFFIC_SRM = 1_000


@dataclass(frozen=True)
class ExperimentSpec:
    model: MonitoredModel
    name: str
    control: str
    challengers: tuple[str, ...]
    primary_metric: str
    minimum_detectable_effect: float
    allocation: Mapping[str, float] | None = None
    alpha: float = 0.05
    planned_days: int = 14
    guardrails: list[dict[str, Any]] = field(default_factory=list)
    mode: str = ExperimentMode.AB
    hypothesis: str = ""
    bandit_floor: float = 0.05


def _fail(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field_name}: {message}", errors=[{"field": field_name, "message": message}])


def spec_from(experiment: Experiment, **changes: Any) -> ExperimentSpec:
    """The experiment's current definition with `changes` applied (a PATCH)."""
    arms = list(experiment.arms.select_related("version").order_by("position"))
    current = {
        "model": experiment.model,
        "name": experiment.name,
        "control": arms[0].version.version if arms else "",
        "challengers": tuple(a.version.version for a in arms[1:]),
        "allocation": {a.version.version: a.planned_share for a in arms},
        "primary_metric": experiment.primary_metric,
        "minimum_detectable_effect": experiment.minimum_detectable_effect,
        "alpha": experiment.alpha,
        "planned_days": experiment.planned_days,
        "guardrails": experiment.guardrails,
        "mode": experiment.mode,
        "hypothesis": experiment.hypothesis,
        "bandit_floor": experiment.bandit_floor,
    }
    if ("control" in changes or "challengers" in changes) and "allocation" not in changes:
        current["allocation"] = None  # new arms: the old shares no longer fit
    current.update(changes)
    current["challengers"] = tuple(current["challengers"])
    return ExperimentSpec(**current)


def _check_metric(spec: ExperimentSpec) -> None:
    metric = METRICS.get(spec.primary_metric)
    model = spec.model
    if metric is None:
        raise _fail("primary_metric", f"one of {', '.join(METRICS)}")
    if model.task not in metric.tasks:
        raise _fail("primary_metric", f"'{spec.primary_metric}' does not apply to a {model.task} model")
    if spec.primary_metric == "business_value":
        settings = (model.value_tp, model.value_fp, model.value_tn, model.value_fn)
        known = (
            model.cost_per_unit_error is not None
            if model.task == Task.REGRESSION
            else any(v is not None for v in settings)
        )
        if not known:
            raise _fail("primary_metric", "the model has no value-of-outcome settings (business.value)")
    if metric.tasks == ("binary_classification",) and not model.positive_label:
        raise _fail("primary_metric", "the model needs a positive_label for this metric")
    if spec.mode == ExperimentMode.BANDIT and metric.kind != "proportion":
        raise _fail("mode", "bandit allocation needs a 0/1 metric (a rate), not a mean")


def _check_guardrails(spec: ExperimentSpec, control: ModelVersion) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i, g in enumerate(spec.guardrails):
        name = g.get("metric") if isinstance(g, dict) else None
        margin = g.get("margin") if isinstance(g, dict) else None
        if name not in GUARDRAILS:
            raise _fail(f"guardrails[{i}].metric", f"one of {', '.join(GUARDRAILS)}")
        if name in seen:
            raise _fail(f"guardrails[{i}].metric", "listed twice")
        if not isinstance(margin, int | float) or not math.isfinite(margin) or margin < 0:
            raise _fail(f"guardrails[{i}].margin", "a number >= 0")
        seen.add(name)
        item: dict[str, Any] = {"metric": name, "margin": float(margin)}
        if name in ("fairness_ratio", "calibration_error") and spec.model.task != Task.BINARY:
            raise _fail(f"guardrails[{i}].metric", f"{name} needs a binary classifier")
        if name == "fairness_ratio":
            sensitive = list(
                FeatureSpec.objects.filter(version=control, role="sensitive").values_list("name", flat=True)
            )
            feature = g.get("feature") or (sensitive[0] if sensitive else None)
            if feature not in sensitive:
                raise _fail(f"guardrails[{i}].feature", f"a sensitive feature of {control.version}")
            item["feature"] = feature
        out.append(item)
    return out


Arms = list[tuple[ModelVersion, bool, float]]


def spec_check(spec: ExperimentSpec) -> tuple[Arms, list[dict[str, Any]]]:
    """Validate a definition; returns its arms (version, is control, planned share), control first,
    and its guardrails normalised (a fairness guardrail names its sensitive feature)."""
    if not spec.name.strip():
        raise _fail("name", "required")
    names = [spec.control, *spec.challengers]
    if not spec.challengers or len(spec.challengers) > MAX_CHALLENGERS:
        raise _fail("challengers", f"between 1 and {MAX_CHALLENGERS} versions")
    if len(set(names)) != len(names):
        raise _fail("challengers", "the control and the challengers must be different versions")
    found = {v.version: v for v in ModelVersion.objects.filter(model=spec.model, version__in=names)}
    for name in names:
        if name not in found:
            raise _fail("control" if name == spec.control else "challengers", f"unknown version '{name}'")
    if any(found[n].stage == "production" for n in spec.challengers):
        raise _fail("challengers", "a challenger cannot already be the production version")
    _check_metric(spec)
    if not (spec.minimum_detectable_effect > 0 and math.isfinite(spec.minimum_detectable_effect)):
        raise _fail("minimum_detectable_effect", "a number > 0")
    if not 0 < spec.alpha <= 0.2:
        raise _fail("alpha", "between 0 and 0.2")
    if not 1 <= spec.planned_days <= 365:
        raise _fail("planned_days", "between 1 and 365")
    if not 0 <= spec.bandit_floor * len(names) <= 1:
        raise _fail("bandit_floor", f"at most 1/{len(names)} for {len(names)} arms")
    if spec.mode == ExperimentMode.BANDIT or not spec.allocation:
        shares = {n: 1 / len(names) for n in names}
    else:
        shares = {n: float(spec.allocation.get(n, 0.0)) for n in names}
        if set(spec.allocation) - set(names):
            raise _fail("allocation", "names a version that is not an arm")
        if any(s <= 0 for s in shares.values()) or abs(sum(shares.values()) - 1) > 1e-6:
            raise _fail("allocation", "every arm needs a share > 0 and the shares must sum to 1")
    guardrails = _check_guardrails(spec, found[spec.control])
    return [(found[n], n == spec.control, shares[n]) for n in names], guardrails


def arms_replace(experiment: Experiment, arms: Sequence[tuple[ModelVersion, bool, float]]) -> None:
    experiment.arms.all().delete()
    ExperimentArm.objects.bulk_create(
        ExperimentArm(experiment=experiment, version=v, is_control=c, planned_share=s, position=i)
        for i, (v, c, s) in enumerate(arms)
    )


def metric_settings(experiment: Experiment) -> dict[str, Any]:
    model = experiment.model
    return {
        "metric": experiment.primary_metric,
        "task": model.task,
        "positive_label": model.positive_label or "1",
        "values": {"tp": model.value_tp, "fp": model.value_fp, "tn": model.value_tn, "fn": model.value_fn},
        "cost_per_unit_error": model.cost_per_unit_error,
        "currency": model.currency,
    }


def fragments_of(
    kind: type[LabelFragment] | type[ProfileFragment],
    version_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> QuerySet[Any]:
    """An experiment's fragments of the arms over [start, end); a governance drill's synthetic
    telemetry is flagged and never counts towards an experiment."""
    return kind.objects.filter(version_id__in=version_ids, hour__gte=start, hour__lt=end, is_drill=False)


def label_moments(
    settings: Mapping[str, Any], version_ids: Sequence[int], start: datetime, end: datetime
) -> dict[tuple[int, str], Moments]:
    """The metric's moments per (version id, ISO day of the prediction), from label fragments.

    Reads only the fragments' exact counts (the JSON keys, not the reservoirs), one row per
    fragment: bounded by arms x hours once the dispatcher has compacted each hour.
    """
    key = "sketch__errors" if settings["task"] == Task.REGRESSION else "sketch__confusion"
    rows = fragments_of(LabelFragment, version_ids, start, end).values_list("version_id", "hour", key)
    out: dict[tuple[int, str], Moments] = {}
    for version_id, hour, part in rows.iterator(chunk_size=500):
        kind = "errors" if settings["task"] == Task.REGRESSION else "confusion"
        m = metric_moments(
            settings["metric"],
            positive_label=str(settings["positive_label"]),
            values=settings["values"],
            cost_per_unit_error=settings["cost_per_unit_error"],
            **{kind: part or {}},
        )
        slot = (version_id, hour.date().isoformat())
        out[slot] = out.get(slot, Moments()) + m
    return out


def baseline_moments(experiment: Experiment, control: ModelVersion, now: datetime) -> Moments:
    found = label_moments(metric_settings(experiment), [control.pk], now - timedelta(days=BASELINE_DAYS), now)
    return sum(found.values(), Moments())


def criteria_for(experiment: Experiment, arms: Sequence[ExperimentArm], baseline: Moments) -> dict[str, Any]:
    """Everything the stopping rules read, fixed at start: the plan and the tuned mixture."""
    settings = metric_settings(experiment)
    metric = METRICS[experiment.primary_metric]
    alpha_each = experiment.alpha / (len(arms) - 1)  # Bonferroni across challengers
    sd: float | None = None
    if baseline.n >= 30:
        sd = math.sqrt(max(baseline.sumsq / baseline.n - (baseline.total / baseline.n) ** 2, 1e-12))
    elif metric.kind == "proportion":
        sd = 0.5  # the largest spread a rate can have
    elif experiment.primary_metric == "business_value" and settings["task"] != Task.REGRESSION:
        values = [v or 0.0 for v in settings["values"].values()]
        sd = (max(values) - min(values)) / 2 or None
    mde = experiment.minimum_detectable_effect
    planned_n = sample_size_per_arm(sd, mde, alpha=alpha_each) if sd else DEFAULT_PLANNED_N
    return {
        **settings,
        "kind": metric.kind,
        "higher_is_better": metric.higher_is_better,
        "mde": mde,
        "alpha": experiment.alpha,
        "alpha_per_challenger": alpha_each,
        "planned_n": planned_n,
        "rho": mixture_precision(planned_n, alpha_each),
        "baseline": {"n": int(baseline.n), "mean": baseline.mean, "sd": sd},
        "mode": experiment.mode,
        "bandit_floor": experiment.bandit_floor,
        "planned_days": experiment.planned_days,
        "guardrails": experiment.guardrails,
        "arms": [
            {
                "version": a.version.version,
                "version_id": a.version_id,
                "is_control": a.is_control,
                "planned_share": a.planned_share,
            }
            for a in arms
        ],
        "min_labelled": MIN_LABELLED,
        "min_traffic_srm": MIN_TRAFFIC_SRM,
        "srm_threshold": SRM_THRESHOLD,
    }


def view(experiment: Experiment) -> dict[str, Any]:
    """The definition as the audit log records it."""
    return {
        "name": experiment.name,
        "status": experiment.status,
        "mode": experiment.mode,
        "primary_metric": experiment.primary_metric,
        "minimum_detectable_effect": experiment.minimum_detectable_effect,
        "alpha": experiment.alpha,
        "planned_days": experiment.planned_days,
        "guardrails": experiment.guardrails,
        "arms": [
            {"version": a.version.version, "control": a.is_control, "share": a.planned_share}
            for a in experiment.arms.select_related("version").order_by("position")
        ],
    }
