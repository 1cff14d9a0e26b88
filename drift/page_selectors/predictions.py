"""The prediction explorer: raw predictions, filtered and paged (the one page that reads raw rows).

Pages are keyset-paginated on (timestamp, id), newest first, so a page costs the same on the millionth
row as on the first and no COUNT(*) runs; every query is bounded by the model, a time range (the last
seven days unless chosen) and LIMIT. Values of features stored hashed are never shown (`PII_SHOWN`).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from drift.decisions import DEFAULT_THRESHOLD, decision_threshold, low_confidence_band
from drift.models import (
    FeatureRole,
    FeatureSpec,
    ModelVersion,
    MonitoredModel,
    PiiHandling,
    PredictionLog,
    ReferenceProfile,
    Task,
)
from drift.page_selectors.model import visible_model
from drift.page_selectors.portfolio import model_values
from drift.selectors import prediction_of_record
from drift.validation import parse_timestamp
from monitoring_site.errors import NotFound

PAGE_SIZE = 50
DEFAULT_DAYS = 7
HIDDEN = "hashed (not shown)"


@dataclass
class Filters:
    start: datetime
    end: datetime
    version: str = ""
    segment: str = ""  # "feature=value"
    outcome: str = ""  # "", "labelled", "unlabelled" or "label:<value>"
    low_confidence: bool = False
    cursor: str = ""

    def query(self, **override: Any) -> dict[str, str]:
        """The filters as GET parameters (for links), without empty ones."""
        out = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "version": self.version,
            "segment": self.segment,
            "outcome": self.outcome,
            "low": "1" if self.low_confidence else "",
        }
        out.update(override)
        return {k: v for k, v in out.items() if v}


@dataclass
class ExplorerPage:
    model: MonitoredModel
    versions: list[ModelVersion]
    filters: Filters
    rows: list[dict[str, Any]]
    segments: list[tuple[str, list[str]]]  # segment features and their reference categories
    labels: list[str]
    next_cursor: str = ""
    errors: list[str] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD  # where the model's decision falls
    band: tuple[float, float] = low_confidence_band(DEFAULT_THRESHOLD)  # "low confidence" scores


def _time(text: str | None, default: datetime, errors: list[str], name: str) -> datetime:
    if not text:
        return default
    when = parse_timestamp(text if "T" in text else f"{text}T00:00:00Z")
    if when is None:
        errors.append(f"'{name}' is not a date or time; showing the default instead.")
        return default
    return when


def parse_filters(params: Any, errors: list[str]) -> Filters:
    now = timezone.now()
    end = _time(params.get("end"), now, errors, "end")
    start = _time(params.get("start"), end - timedelta(days=DEFAULT_DAYS), errors, "start")
    return Filters(
        start=start,
        end=end,
        version=(params.get("version") or "")[:64],
        segment=(params.get("segment") or "")[:200],
        outcome=(params.get("outcome") or "")[:100],
        low_confidence=params.get("low") == "1",
        cursor=(params.get("cursor") or "")[:80],
    )


def _segment_features(model: MonitoredModel, version: ModelVersion | None) -> list[tuple[str, list[str]]]:
    specs = FeatureSpec.objects.filter(
        version=version, role__in=[FeatureRole.SEGMENT, FeatureRole.SENSITIVE], pii=PiiHandling.KEEP
    ).order_by("position")
    return [(s.name, [str(c) for c in s.categories]) for s in specs]


def _filtered(model: MonitoredModel, version: ModelVersion | None, f: Filters) -> QuerySet[PredictionLog]:
    qs = PredictionLog.objects.filter(
        model=model, timestamp__gte=f.start, timestamp__lt=f.end, is_drill=False
    )
    if version is not None:
        qs = qs.filter(version=version)
    if "=" in f.segment:
        name, value = f.segment.split("=", 1)
        qs = qs.filter(**{f"features__{name}": value})
    if f.outcome == "labelled":
        qs = qs.filter(outcome__isnull=False)
    elif f.outcome == "unlabelled":
        qs = qs.filter(outcome__isnull=True)
    elif f.outcome.startswith("label:"):
        qs = qs.filter(outcome__isnull=False).filter(
            Q(outcome__label=f.outcome[6:]) | Q(outcome__label=_number(f.outcome[6:]))
        )
    if f.low_confidence:
        low, high = low_confidence_band(model_threshold(model))
        qs = qs.filter(score__gt=low, score__lt=high)
    return qs


def model_threshold(model: MonitoredModel) -> float:
    """The break-even score of a binary model's outcome values (drift.decisions); 0.5 otherwise."""
    return decision_threshold(model_values(model) if model.task == Task.BINARY else {})


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _labels(version: ModelVersion | None) -> list[str]:
    """The labels the reference knows (its labelled summary), for the outcome filter."""
    known = (
        ReferenceProfile.objects.filter(reference__version=version)
        .annotate(labels=KeyTransform("labels", "labelled"))
        .values_list("labels", flat=True)
        .first()
    )
    return sorted(str(k) for k in known) if isinstance(known, dict | list) else []


def _after_cursor(qs: QuerySet[PredictionLog], cursor: str) -> QuerySet[PredictionLog]:
    ts_text, _, pk = cursor.rpartition("~")
    when = parse_timestamp(ts_text) if ts_text else None
    if when is None or not pk.isdigit():
        return qs
    return qs.filter(Q(timestamp__lt=when) | Q(timestamp=when, id__lt=int(pk)))


def explorer_page(user: Any, slug: str, params: Any) -> ExplorerPage:
    model = visible_model(user, slug)
    errors: list[str] = []
    f = parse_filters(params, errors)
    versions = list(model.versions.order_by("-created_at", "-id"))
    version = next((v for v in versions if v.version == f.version), None)
    if f.version and version is None:
        raise NotFound(f"Model '{model.slug}' has no version '{f.version}'.")
    segments = _segment_features(model, version or (versions[0] if versions else None))
    if f.segment and f.segment.split("=", 1)[0] not in {name for name, _ in segments}:
        errors.append("That segment cannot be filtered on; showing every segment.")
        f.segment = ""
    qs = _after_cursor(_filtered(model, version, f), f.cursor)
    page = list(
        qs.select_related("version", "outcome")
        .order_by("-timestamp", "-id")
        .values(
            "id",
            "record_id",
            "timestamp",
            "version__version",
            "prediction",
            "score",
            "latency_ms",
            "status",
            "features",
            "outcome__label",
            "is_late",
        )[: PAGE_SIZE + 1]
    )
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    names = [name for name, _ in segments]
    rows = [{**r, "segments": {n: (r["features"] or {}).get(n) for n in names}} for r in page]
    for r in rows:
        del r["features"]
    last = page[-1] if page else None
    labels = _labels(version or (versions[0] if versions else None)) if model.task != "regression" else []
    return ExplorerPage(
        model=model,
        versions=versions,
        filters=f,
        rows=rows,
        segments=segments,
        labels=labels,
        next_cursor=f"{last['timestamp'].isoformat()}~{last['id']}" if more and last else "",
        threshold=model_threshold(model),
        band=low_confidence_band(model_threshold(model)),
        errors=errors,
    )


def prediction_detail(user: Any, slug: str, record_id: str) -> dict[str, Any]:
    """One prediction with its lineage, attributions and outcome; hashed features are not shown."""
    model = visible_model(user, slug)
    row = (
        prediction_of_record(model, record_id[:200])
        .filter(is_drill=False)
        .select_related("version", "outcome")
        .first()
    )
    if row is None:
        raise NotFound(f"No prediction '{record_id[:200]}' for this model.")
    specs = {s.name: s for s in FeatureSpec.objects.filter(version=row.version)}
    features = [
        {
            "name": name,
            "value": HIDDEN if specs.get(name) and specs[name].pii == PiiHandling.HASH else value,
            "role": specs[name].get_role_display() if name in specs else "",
            "issue": (row.value_issues or {}).get(name, ""),
        }
        for name, value in (row.features or {}).items()
    ]
    attributions = sorted(
        ((k, v) for k, v in (row.attributions or {}).items() if isinstance(v, int | float)),
        key=lambda kv: -abs(kv[1]),
    )
    outcome = getattr(row, "outcome", None)  # None when no outcome has arrived
    return {
        "model": model,
        "row": row,
        "features": features,
        "attributions": attributions,
        "lineage": sorted((row.lineage or {}).items()),
        "outcome": outcome,
    }
