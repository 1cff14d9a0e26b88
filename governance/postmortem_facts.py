"""The facts of a postmortem, read from the record: impact, timeline, detection times, ML details.

Nothing here writes. The incident's window runs from the onset (the start of the earliest breaching
analysis window of its drift events; the opening when it has none) to its resolution (or now).
"""

from datetime import datetime
from typing import Any

from django.db.models import Min, Sum

from drift.engine.windows import floor_hour
from drift.models import AnalysisResult, AnalysisRun, ProfileFragment, ReferenceProfile, RunKind, RunStatus
from drift.models.analysis import Section
from governance.impact import confusion_counts, durations, per_prediction, value_lost
from governance.models import AuditEntry, DriftEvent, Incident, strictness

SEGMENTS_PER_FEATURE = 3


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _ts(when: datetime | None) -> float | None:
    return when.timestamp() if when else None


def _window(incident: Incident, events: list[DriftEvent], now: datetime) -> tuple[datetime, datetime]:
    onset = AnalysisRun.objects.filter(drift_events__in=events).aggregate(start=Min("window_start"))["start"]
    start = min(onset or incident.opened_at, incident.opened_at)
    return start, incident.resolved_at or now


def _runs(incident: Incident, start: datetime, end: datetime) -> list[AnalysisRun]:
    """Finished analyses of the model whose window overlaps the incident's (drills excluded: they
    have their own kind)."""
    return list(
        AnalysisRun.objects.filter(
            model=incident.model,
            kind=RunKind.ANALYSIS,
            status=RunStatus.DONE,
            window_start__lt=end,
            window_end__gt=start,
        )
        .select_related("version")
        .order_by("window_start", "id")
    )


def _results(runs: list[AnalysisRun]) -> dict[int, dict[str, Any]]:
    by_run: dict[int, dict[str, Any]] = {run.pk: {} for run in runs}
    sections = (Section.PERFORMANCE, Section.ESTIMATED_PERFORMANCE, Section.DATA_DRIFT)
    rows = AnalysisResult.objects.filter(run__in=runs, section__in=sections)
    for run_id, section, data in rows.values_list("run_id", "section", "data"):
        by_run[run_id][section] = data
    return by_run


def _affected_predictions(incident: Incident, start: datetime, end: datetime) -> int:
    """Predictions the model made in the incident's window, from the hourly profiles (no raw rows)."""
    fragments = ProfileFragment.objects.filter(
        version__model=incident.model, hour__gte=floor_hour(start), hour__lt=end, is_drill=False
    )
    return int(fragments.aggregate(rows=Sum("rows"))["rows"] or 0)


def _reference_value(incident: Incident, runs: list[AnalysisRun], values: dict[str, Any]) -> float | None:
    versions = {run.version_id for run in runs}
    for labelled in ReferenceProfile.objects.filter(reference__version_id__in=versions).values_list(
        "labelled", flat=True
    ):
        confusion, positive = labelled.get("confusion"), labelled.get("positive_label")
        if confusion and positive is not None:
            return per_prediction(confusion_counts(confusion, str(positive)), values)
    return None


def _impact(incident: Incident, runs: list[AnalysisRun], results: dict[int, dict], start, end) -> dict:
    model = incident.model
    values = {"tp": model.value_tp, "fp": model.value_fp, "tn": model.value_tn, "fn": model.value_fn}
    windows = [
        {"rows": run.rows, "window_start": _iso(run.window_start), **results.get(run.pk, {})} for run in runs
    ]
    return {
        "window": {"start": _iso(start), "end": _iso(end), "ongoing": incident.resolved_at is None},
        "predictions_affected": _affected_predictions(incident, start, end),
        "analyses": len(runs),
        "business": value_lost(
            windows,
            values=values,
            reference_per_prediction=_reference_value(incident, runs, values),
            currency=model.currency,
        ),
    }


def _mitigations(incident: Incident, events: list[DriftEvent], detected: datetime) -> list[dict]:
    """Gate changes made stricter after detection (until resolution), and events moved to mitigated:
    from the audit log."""
    out = []
    gate = AuditEntry.objects.filter(
        model=incident.model, action="serving_mode.change", at__gte=detected
    ).order_by("at", "id")
    if incident.resolved_at is not None:
        gate = gate.filter(at__lte=incident.resolved_at)
    for entry in gate:
        before, after = (entry.before or {}).get("mode"), (entry.after or {}).get("mode")
        if before and after and strictness(after) > strictness(before):
            out.append({"at": _iso(entry.at), "by": entry.actor, "what": f"serving mode {before} → {after}"})
    moved = AuditEntry.objects.filter(
        object_type="driftevent", object_id__in=[str(e.pk) for e in events], action="drift_event.transition"
    ).order_by("at", "id")
    for entry in moved:
        if (entry.after or {}).get("status") == "mitigated":
            what = f"event #{entry.object_id} mitigated" + (f": {entry.reason}" if entry.reason else "")
            out.append({"at": _iso(entry.at), "by": entry.actor, "what": what})
    return sorted(out, key=lambda m: m["at"])


def _detection(incident: Incident, events: list[DriftEvent], start: datetime) -> dict[str, Any]:
    detected = min((e.detected_at for e in events), default=incident.opened_at)
    acks = [e.acknowledged_at for e in events if e.acknowledged_at] + [incident.acknowledged_at]
    acknowledged = min((a for a in acks if a), default=None)
    mitigations = _mitigations(incident, events, detected)
    mitigated = datetime.fromisoformat(mitigations[0]["at"]) if mitigations else None
    first = min(events, key=lambda e: e.detected_at, default=None)
    return {
        "onset": _iso(start),
        "detected_at": _iso(detected),
        "detected_by": (f"policy '{first.policy.name}'" if first and first.policy else incident.opened_by),
        "acknowledged_at": _iso(acknowledged),
        "mitigated_at": _iso(mitigated),
        "resolved_at": _iso(incident.resolved_at),
        **durations(
            onset=_ts(start),
            detected=_ts(detected),
            acknowledged=_ts(acknowledged),
            mitigated=_ts(mitigated),
            resolved=_ts(incident.resolved_at),
        ),
        "mitigations": mitigations,
    }


def _drift_values(events: list[DriftEvent]) -> list[dict[str, Any]]:
    """Each event's signal against its threshold, from its snapshot when a mitigation kept one."""
    out = []
    for event in events:
        snap = event.snapshot or {}
        drifted = [
            {"feature": f["feature"], "effect_size": f.get("effect_size"), "threshold": f.get("threshold")}
            for f in ((snap.get("results") or {}).get("data_drift") or {}).get("features", [])
            if f.get("drifted")
        ]
        out.append(
            {
                "event": event.pk,
                "signal": event.signal,
                "observed": snap.get("observed", event.latest_value),
                "threshold": snap.get("threshold", event.threshold),
                "windows": snap.get("windows", event.windows),
                "from_snapshot": bool(snap),
                "drifted_features": drifted,
            }
        )
    return out


def _segments(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Where drifted features concentrated (segment-role features), latest window first, once each."""
    seen, out = set(), []
    for run_id in sorted(results, reverse=True):
        for feature in (results[run_id].get("data_drift") or {}).get("features", []):
            for split in feature.get("segments") or []:
                key = (feature["feature"], split.get("by"))
                if not feature.get("drifted") or key in seen:
                    continue
                seen.add(key)
                top = split.get("segments", [])[:SEGMENTS_PER_FEATURE]
                out.append(
                    {
                        "feature": feature["feature"],
                        "by": split.get("by"),
                        "concentrated_in": split.get("concentrated_in"),
                        "top": [
                            {"value": s["value"], "effect": s["effect"], "share": s["share"]} for s in top
                        ],
                        "run": run_id,
                    }
                )
    return out


def postmortem_facts(incident: Incident, *, now: datetime) -> dict[str, Any]:
    """Everything a postmortem states as fact, computed from the incident's record."""
    events = list(incident.events.select_related("policy").order_by("detected_at", "id"))
    start, end = _window(incident, events, now)
    runs = _runs(incident, start, end)
    results = _results(runs)
    breaching = AnalysisRun.objects.filter(drift_events__in=events).distinct()
    digests = sorted({r for r in breaching.values_list("reference_digest", flat=True) if r})
    return {
        "computed_at": _iso(now),
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "opened_at": _iso(incident.opened_at),
            "resolved_at": _iso(incident.resolved_at),
        },
        "impact": _impact(incident, runs, results, start, end),
        "detection": _detection(incident, events, start),
        "timeline": [
            {"at": _iso(t.at), "kind": t.kind, "text": t.text, "actor": t.actor}
            for t in incident.timeline.order_by("at", "id")
        ],
        "ml": {
            "model": incident.model.slug,
            "versions": sorted({r.version.version for r in breaching.select_related("version")})
            or sorted({r.version.version for r in runs}),
            "reference_digests": digests or sorted({r.reference_digest for r in runs if r.reference_digest}),
            "drift_values": _drift_values(events),
            "affected_segments": _segments(results),
            "events": [{"id": e.pk, "signal": e.signal, "status": e.status} for e in events],
        },
    }
