"""The feature page: one feature's distribution (from profiles), its verdicts over time, its data quality,
and which sources fed the window.

Distributions come from profile fragments (only this feature's part of each hourly sketch is read) and the
reference's profile. Lineage lives only on raw rows, so it is read from a bounded sample of the window.
"""

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models.fields.json import KeyTransform

from drift.models import (
    AnalysisResult,
    AnalysisRun,
    FeatureResult,
    FeatureSpec,
    ModelVersion,
    MonitoredModel,
    PredictionLog,
    ProfileFragment,
    ReferenceDataset,
    ReferenceProfile,
    RunStatus,
)
from drift.page_selectors.annotations import flags_between
from drift.page_selectors.model import SERIES_RUNS, chosen_version, pick_run, visible_model
from drift.page_selectors.summaries import events_between, recent_runs, scheduled_length
from drift.profiles import ProfileSpec
from monitoring_site.errors import NotFound

LINEAGE_SAMPLE = 2_000  # raw rows read at most for the lineage breakdown


@dataclass
class FeaturePage:
    model: MonitoredModel
    version: ModelVersion
    spec: FeatureSpec
    run: AnalysisRun | None
    runs: list[AnalysisRun]
    entry: dict[str, Any]  # the chosen run's drift verdict for this feature ({} when none)
    history: list[dict[str, Any]]  # {window, effect, threshold, drifted, method}, oldest first
    quality: list[dict[str, Any]]  # {window, missing, out_of_range, undeclared_category}, oldest first
    distribution: dict[str, Any]  # {labels, reference, current}
    lineage: dict[str, Any]  # {sampled, rows, groups: [{source, pipeline_version, count, share}]}
    events: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)  # frontline flags touching the charted range


def feature_page(
    user: Any, slug: str, name: str, *, version: str | None = None, run_id: str | None = None
) -> FeaturePage:
    model = visible_model(user, slug)
    _, chosen = chosen_version(model, version, run_id)
    spec = FeatureSpec.objects.filter(version=chosen, name=name[:100]).first() if chosen else None
    if chosen is None or spec is None:
        raise NotFound(f"Model '{model.slug}' has no feature '{name[:100]}'.")
    runs = recent_runs(model, chosen.pk, limit=90)
    done = [r for r in runs if r.status == RunStatus.DONE]
    run = pick_run(model, chosen.pk, runs, done, run_id)
    charted = list(reversed(scheduled_length(model, done)[:SERIES_RUNS]))
    return FeaturePage(
        model=model,
        version=chosen,
        spec=spec,
        run=run,
        runs=runs,
        entry=_entry(run, spec.name),
        history=_history(charted, spec.name),
        quality=_quality(charted, spec.name),
        distribution=_distribution(chosen, run, spec.name) if run else {},
        lineage=_lineage(chosen, run) if run else {},
        events=events_between(model, charted[0].window_start, charted[-1].window_end) if charted else [],
        flags=(
            flags_between(model, charted[0].window_start, charted[-1].window_end, feature=spec.name)
            if charted
            else []
        ),
    )


def _entry(run: AnalysisRun | None, name: str) -> dict[str, Any]:
    if run is None or run.status != RunStatus.DONE:
        return {}
    data = AnalysisResult.objects.filter(run=run, section="data_drift").values_list("data", flat=True).first()
    return next((f for f in (data or {}).get("features", []) if f.get("feature") == name), {})


def _history(runs: list[AnalysisRun], name: str) -> list[dict[str, Any]]:
    found = {
        r["run_id"]: r
        for r in FeatureResult.objects.filter(run__in=runs, feature=name).values(
            "run_id", "effect_size", "threshold", "drifted", "effect_method", "testable"
        )
    }
    return [
        {
            "window": r.window_start.isoformat(),
            "effect": found[r.pk]["effect_size"],
            "threshold": found[r.pk]["threshold"],
            "drifted": found[r.pk]["drifted"],
            "method": found[r.pk]["effect_method"],
        }
        for r in runs
        if r.pk in found and found[r.pk]["testable"]
    ]


def _quality(runs: list[AnalysisRun], name: str) -> list[dict[str, Any]]:
    part = KeyTransform(name, KeyTransform("features", "data"))
    rows = dict(
        AnalysisResult.objects.filter(run__in=runs, section="data_quality")
        .annotate(part=part)
        .values_list("run_id", "part")
    )
    out = []
    for r in runs:
        checks = rows.get(r.pk) or {}
        point: dict[str, Any] = {"window": r.window_start.isoformat()}
        for key in ("missing", "out_of_range", "undeclared_category"):
            if isinstance(checks.get(key), dict):
                point[key] = checks[key].get("observed")
                point[f"{key}_status"] = checks[key].get("status")
        out.append(point)
    return out


def _bin_labels(bins: dict[str, Any]) -> list[str]:
    if bins["kind"] == "numeric":
        edges = [float(e) for e in bins["edges"]]
        if not edges:
            return ["all values"]
        # A point mass (a tied quantile) has a bin of its own, [v, nextafter(v)): label it v.
        inner = [
            _short(a) if b - a <= 1e-9 * max(1.0, abs(a)) else f"{_short(a)}-{_short(b)}"
            for a, b in itertools.pairwise(edges)
        ]
        return [f"< {_short(edges[0])}", *inner, f"> {_short(edges[-1])}"]
    if bins["kind"] == "categorical":
        return [*bins["categories"], "(other known)", "(new values)"]
    return ["false", "true"]


def _short(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _distribution(version: ModelVersion, run: AnalysisRun, name: str) -> dict[str, Any]:
    dataset = ReferenceDataset.objects.filter(version=version).values_list("profile_spec", flat=True).first()
    if not dataset:
        return {}
    spec = ProfileSpec.from_json(dataset)
    bins = next((b for b in spec.features if b.name == name), None)
    if bins is None:
        return {}
    ref = (
        ReferenceProfile.objects.filter(reference__version=version)
        .annotate(part=KeyTransform(name, KeyTransform("features", "sketch")))
        .values_list("part", flat=True)
        .first()
    ) or {}
    parts = (
        ProfileFragment.objects.filter(
            version=version,
            hour__gte=run.window_start,
            hour__lt=run.window_end,
            spec_digest=spec.digest,
            is_drill=False,
        )
        .annotate(part=KeyTransform(name, KeyTransform("features", "sketch")))
        .values_list("part", flat=True)
    )
    desc = {"kind": bins.kind, "edges": bins.edges, "categories": bins.categories}
    current = _sum_parts(list(parts), bins.kind)
    return {"labels": _bin_labels(desc), "reference": _counts(ref, bins.kind), "current": current}


def _counts(part: dict[str, Any], kind: str) -> list[float]:
    if kind == "boolean":
        true = part.get("true", 0)
        return [part.get("count", 0) - true, true]
    return [float(c) for c in part.get("bins", [])]


def _sum_parts(parts: list[dict[str, Any] | None], kind: str) -> list[float]:
    total: list[float] = []
    for p in parts:
        counts = _counts(p or {}, kind)
        total = [a + b for a, b in zip(total, counts, strict=True)] if total and counts else total or counts
    return total


def _lineage(version: ModelVersion, run: AnalysisRun) -> dict[str, Any]:
    """Sources and pipeline versions of (a bounded sample of) the window's rows, via the time index."""
    rows = list(
        PredictionLog.objects.filter(
            version=version, timestamp__gte=run.window_start, timestamp__lt=run.window_end, is_drill=False
        )
        .order_by("timestamp")
        .values_list("lineage", flat=True)[:LINEAGE_SAMPLE]
    )
    tally = Counter(
        (str((lin or {}).get("source") or "—"), str((lin or {}).get("pipeline_version") or "—"))
        for lin in rows
    )
    n = len(rows)
    groups = [
        {"source": s, "pipeline_version": p, "count": c, "share": c / n}
        for (s, p), c in tally.most_common(20)
    ]
    return {"sampled": n, "rows": run.rows, "groups": groups, "capped": n >= LINEAGE_SAMPLE}


def window_label(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
