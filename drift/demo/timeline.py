"""How the integration sends the story: the ordered calls, the record ids and the timestamps. Pure numpy.

Example:
    >>> from datetime import UTC, datetime
    >>> from drift.demo.story import StoryConfig, generate
    >>> config = StoryConfig.scaled(10, per_day=50, reference_rows=10)
    >>> story = generate(config, end=datetime(2025, 3, 31, tzinfo=UTC))
    >>> [s.kind for s in timeline(story)][:2], str(record_ids(story)[0])
    (['predictions', 'health'], 'app-20250322-0000000')
"""

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from drift.demo.story import DAY, HOUR, Milestone, Story


@dataclass(frozen=True)
class Step:
    """One call the seed makes, at story time `clock`: a stage change, a batch, or a day of health samples."""

    clock: int
    kind: str  # stage | predictions | outcomes | health
    rows: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    version: str = ""
    milestone: Milestone | None = None


_RANK = {"stage": 0, "predictions": 1, "outcomes": 2, "health": 3}


def _chunks(
    order: NDArray[np.int64], times: NDArray[np.int64], size: int
) -> list[tuple[int, NDArray[np.int64]]]:
    return (
        [(int(times[part].max()), part) for part in np.array_split(order, -(-len(order) // size))]
        if len(order)
        else []
    )


def timeline(story: Story, *, batch_size: int = 5_000) -> list[Step]:
    """The calls in the order they happen: predictions in daily batches per version (sent when the day's
    last record is delivered), outcomes in daily batches by arrival, health samples once a day."""
    p = story.predictions
    steps = [
        Step(m.time, "stage", version=m.version, milestone=m) for m in story.milestones if m.kind == "stage"
    ]
    delivery_day = (p.delivered - story.start) // DAY
    for version in ("v1", "v2"):
        for d in np.unique(delivery_day[p.version == version]):
            rows = np.flatnonzero((delivery_day == d) & (p.version == version))
            rows = rows[np.argsort(p.delivered[rows], kind="stable")]
            steps += [
                Step(clock, "predictions", part, version)
                for clock, part in _chunks(rows, p.delivered, batch_size)
            ]
    labelled = np.flatnonzero(p.has_outcome)
    arrival_day = (p.label_arrival[labelled] - story.start) // DAY
    for d in np.unique(arrival_day):
        rows = labelled[arrival_day == d]
        rows = rows[np.argsort(p.label_arrival[rows], kind="stable")]
        steps += [Step(clock, "outcomes", part) for clock, part in _chunks(rows, p.label_arrival, batch_size)]
    hours = story.health.hour
    for d in np.unique((hours - story.start) // DAY):
        idx = np.flatnonzero((hours - story.start) // DAY == d)
        steps.append(Step(int(hours[idx].max()) + HOUR, "health", idx))
    return sorted(steps, key=lambda s: (s.clock, _RANK[s.kind]))


def record_ids(story: Story) -> NDArray[np.str_]:
    """The client's id of every prediction: ``app-<yyyymmdd>-<row>``, unique and stable for a seed."""
    p = story.predictions
    dates = np.char.replace(np.datetime_as_string(p.ts.astype("datetime64[s]"), unit="D"), "-", "")
    return np.char.add(np.char.add("app-", dates), np.char.mod("-%07d", np.arange(p.size)))


def iso(epoch_seconds: NDArray[np.int64]) -> NDArray[np.str_]:
    """ISO 8601 UTC text, e.g. ``2025-03-31T18:30:00Z``."""
    return np.char.add(np.datetime_as_string(epoch_seconds.astype("datetime64[s]"), unit="s"), "Z")
