"""Helpers for the analysis tests: a model built from a `drift.scenarios` scenario, fed through the services.

Profiles and label fragments are rebuilt after ingesting (idempotent whether or not ingestion already
records them), so these helpers work before and after the ingestion hooks are in place.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from drift.models import ModelVersion, MonitoredModel
from drift.scenarios import Sample, Scenario
from drift.services.ingestion import outcomes_ingest, predictions_ingest
from drift.services.labels import labels_rebuild
from drift.services.profiles import profiles_rebuild
from drift.services.reference import reference_upload
from drift.services.registry import model_create, version_create

# The window the scenario tests analyse: the day before the frozen clock of tests/drift/conftest.py.
DAY = datetime(2026, 11, 19, tzinfo=UTC)
BATCH = 5_000


def schema(sc: Scenario) -> list[dict[str, Any]]:
    return [
        *({"name": n, "type": "numeric"} for n in sc.numeric),
        *({"name": n, "type": "categorical"} for n in sc.categorical),
        {"name": "segment", "type": "categorical", "role": "segment"},
        {"name": "group", "type": "categorical", "role": "sensitive"},
    ]


def _value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def features(sample: Sample, i: int) -> dict[str, Any]:
    out = {name: _value(col[i]) for name, col in sample.features.items()}
    out["segment"], out["group"] = str(sample.segment[i]), str(sample.sensitive[i])
    return out


def scenario_model(
    sc: Scenario, *, slug: str = "scenario", reference: bool = True, **model_fields: Any
) -> ModelVersion:
    model = model_create(
        slug=slug,
        name=slug.title(),
        task="binary_classification",
        owner="tests",
        positive_label="1",
        **model_fields,
    )
    version = version_create(model=model, version="v1", features=schema(sc), stage="production")
    if reference:
        reference_upload(version=version, rows=reference_rows(sc.reference), source="json")
    return version


def reference_rows(sample: Sample) -> list[dict[str, Any]]:
    return [
        {
            "features": features(sample, i),
            "prediction": int(sample.prediction[i]),
            "score": float(sample.score[i]),
            "label": int(sample.y[i]),
        }
        for i in range(sample.n)
    ]


def ingest(
    version: ModelVersion,
    sample: Sample,
    *,
    start: datetime = DAY,
    hours: int = 24,
    prefix: str = "r",
    labels: bool = True,
) -> list[str]:
    """Send the sample's rows spread evenly over `hours` from `start`; label them all when `labels`."""
    model: MonitoredModel = version.model
    step = timedelta(hours=hours) / max(sample.n, 1)
    ids = [f"{prefix}-{i}" for i in range(sample.n)]
    records = [
        {
            "id": ids[i],
            "timestamp": (start + i * step).isoformat().replace("+00:00", "Z"),
            "features": features(sample, i),
            "prediction": int(sample.prediction[i]),
            "score": float(sample.score[i]),
            "latency_ms": 20.0 + (i % 7),
        }
        for i in range(sample.n)
    ]
    for b in range(0, len(records), BATCH):
        predictions_ingest(model=model, version=version.version, records=records[b : b + BATCH], partial=True)
    profiles_rebuild(version=version)
    if labels:
        outcomes = [{"prediction_id": ids[i], "label": int(sample.y[i])} for i in range(sample.n)]
        for b in range(0, len(outcomes), BATCH):
            outcomes_ingest(model=model, records=outcomes[b : b + BATCH], partial=True)
        labels_rebuild(version=version)
    return ids


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run tasks in-process even when CELERY_BROKER_URL is set (the PostgreSQL + Redis CI run)."""
    from monitoring_site.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
