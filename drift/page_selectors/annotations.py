"""Frontline flags (governance annotations) for the pages: chart markers over a charted range and the
flags on one prediction. Dismissed flags are left off the charts (an analyst judged them not a problem).

Like every dashboard read, the markers never touch raw predictions: a flagged time range shows as its
band, and a flagged prediction or segment (not a moment) shows when it was flagged.
"""

from datetime import datetime
from typing import Any

from django.db.models import Q

from drift.models import FeatureSpec, ModelVersion, MonitoredModel, PiiHandling
from governance.models import Annotation, AnnotationStatus, AnnotationTarget

MAX_MARKERS = 200


def _when(a: Annotation, start: datetime, end: datetime) -> tuple[datetime, datetime | None, datetime | None]:
    """Where the marker goes (inside [start, end]) and the band a time range draws, clipped to it."""
    if a.target == AnnotationTarget.TIME_RANGE and a.start and a.end:
        lo, hi = max(a.start, start), min(a.end, end)
        return lo + (hi - lo) / 2, lo, hi
    # Flagged after the last charted window (the usual case: today is not analysed yet): at the end.
    return min(a.created_at, end), None, None


def _what(a: Annotation) -> str:
    if a.target == AnnotationTarget.PREDICTION:
        return f"Prediction {a.record_id}"
    if a.target == AnnotationTarget.SEGMENT:
        return f"Segment {a.segment_feature} = {a.segment_value}"
    return f"{a.start:%Y-%m-%d %H:%M} to {a.end:%Y-%m-%d %H:%M} UTC" if a.start and a.end else "A time range"


def flags_between(
    model: MonitoredModel, start: datetime, end: datetime, *, feature: str | None = None
) -> list[dict[str, Any]]:
    """Flags that touch [start, end): time ranges overlapping it, and predictions and segments flagged
    since it began (on a feature page, only segments of that feature). Oldest first."""
    segments = Q(target=AnnotationTarget.SEGMENT, created_at__gte=start)
    if feature is not None:
        segments &= Q(segment_feature=feature)
    predictions = Q(target=AnnotationTarget.PREDICTION, created_at__gte=start)
    found = (
        Annotation.objects.filter(model=model)
        .exclude(status=AnnotationStatus.DISMISSED)
        .filter(Q(target=AnnotationTarget.TIME_RANGE, start__lt=end, end__gt=start) | predictions | segments)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:MAX_MARKERS]
    )
    out = []
    for a in reversed(list(found)):
        at, lo, hi = _when(a, start, end)
        out.append(
            {
                "id": a.pk,
                "target": a.target,
                "what": _what(a),
                "at": at.isoformat(),
                "start": lo.isoformat() if lo else None,
                "end": hi.isoformat() if hi else None,
                "category": a.get_category_display(),
                "status": a.status,
                "by": a.created_by.get_username() if a.created_by else "",
                "note": a.note,
            }
        )
    return out


def flags_of_prediction(model: MonitoredModel, record_id: str) -> list[Annotation]:
    return list(
        Annotation.objects.filter(model=model, record_id=record_id[:200])
        .select_related("created_by", "triaged_by", "task")
        .order_by("-created_at", "-id")[:50]
    )


def segment_features(version: ModelVersion | None) -> list[str]:
    """Features a segment can be flagged on: those whose values are kept (hashed ones mean nothing)."""
    if version is None:
        return []
    return list(
        FeatureSpec.objects.filter(version=version, pii=PiiHandling.KEEP)
        .order_by("position")
        .values_list("name", flat=True)
    )
