"""Helpers for the experiment tests: a movable clock, a challenger version, and arm data written as the
fragments ingestion would write (one per version and hour), seeded.

Nothing here imports Django at module level; each test module wraps `moving` and `add_challenger` in
its own fixtures.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import numpy as np

from tests.conftest import FEATURES

# Experiments start half-way through an hour, so the data window starts at the next full hour.
START = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
FIRST_HOUR = datetime(2026, 11, 20, 9, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, when: datetime) -> None:
        self.now = when


@contextmanager
def moving(start: datetime = START) -> Iterator[Clock]:
    """Patch `django.utils.timezone.now` with a clock the test moves (`clock.at(...)`)."""
    clock = Clock(start)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        yield clock


def add_challenger(credit_v1: Any, version: str = "v2") -> Any:
    from drift.services.registry import version_create

    return version_create(model=credit_v1.model, version=version, features=FEATURES, stage="shadow")


def feed(
    version: Any,
    hour: datetime,
    n: int,
    *,
    accuracy: float,
    seed: int,
    errors: int = 0,
    latency_ms: float = 20.0,
    labelled: bool = True,
    selection: dict[str, float] | None = None,
    drill: bool = False,
) -> None:
    """Write the profile and label fragments of `n` predictions of `version` in `hour`.

    Labels are 1 for half the rows; a prediction is right with probability `accuracy`.
    `selection` (group -> share predicted positive) overrides predictions, for the fairness tests.
    """
    from drift.engine.label_sketch import sketch_labels
    from drift.models import LabelFragment, ProfileFragment
    from drift.profiles import ProfileSpec, sketch_rows

    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.5).astype(int)
    right = rng.random(n) < accuracy
    predictions = np.where(right, labels, 1 - labels)
    groups = rng.choice(["f", "m"], size=n)
    if selection is not None:
        predictions = (rng.random(n) < np.vectorize(selection.get)(groups)).astype(int)
    scores = np.clip(np.where(predictions == 1, 0.7, 0.3) + rng.normal(0, 0.05, n), 0, 1)
    latencies = rng.lognormal(np.log(latency_ms), 0.3, n)
    sketch = sketch_rows(
        {}, ProfileSpec(()), scores=scores.tolist(), latencies=latencies.tolist(), errors=errors
    )
    ProfileFragment.objects.create(version=version, hour=hour, rows=n, sketch=sketch, is_drill=drill)
    if labelled:
        stamps = [(hour + timedelta(minutes=int(m))).timestamp() for m in rng.integers(0, 60, n)]
        label_sketch = sketch_labels(
            task="binary_classification",
            timestamps=stamps,
            predictions=predictions.tolist(),
            labels=labels.tolist(),
            scores=scores.tolist(),
            features={"gender": groups.tolist()},
            seed=seed,
        )
        LabelFragment.objects.create(version=version, hour=hour, rows=n, sketch=label_sketch, is_drill=drill)


def feed_hours(
    arms: list[tuple[Any, int, float]], hours: int, *, start: datetime = FIRST_HOUR, **kw: Any
) -> None:
    """`arms`: (version, predictions per hour, accuracy). One fragment per arm and hour."""
    for h in range(hours):
        for i, (version, n, accuracy) in enumerate(arms):
            feed(version, start + timedelta(hours=h), n, accuracy=accuracy, seed=1_000 * h + i, **kw)


def definition(model: Any, **overrides: Any) -> Any:
    from drift.services.experiment_definition import ExperimentSpec

    fields: dict[str, Any] = {
        "model": model,
        "name": "v2 against v1",
        "control": "v1",
        "challengers": ("v2",),
        "primary_metric": "accuracy",
        "minimum_detectable_effect": 0.02,
        "planned_days": 14,
    }
    fields.update(overrides)
    return ExperimentSpec(**fields)
