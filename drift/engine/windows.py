"""Analysis windows: UTC-aligned hours, days (from midnight) and weeks (from Monday). Pure.

Example:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 11, 20, 13, 45, tzinfo=UTC)  # a Friday
    >>> [w.isoformat() for w in window_of("weekly", t)]
    ['2026-11-16T00:00:00+00:00', '2026-11-23T00:00:00+00:00']
    >>> len(complete_windows("hourly", [t.replace(hour=h) for h in (9, 10, 13)], now=t))
    2
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

LENGTHS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
# Let in-flight batches land before a window is analysed.
GRACE = timedelta(minutes=10)


def window_of(kind: str, when: datetime) -> tuple[datetime, datetime]:
    """The window of length `kind` that holds `when`."""
    start = when.replace(minute=0, second=0, microsecond=0)
    if kind in ("daily", "weekly"):
        start = start.replace(hour=0)
    if kind == "weekly":
        start -= timedelta(days=start.weekday())
    return start, start + LENGTHS[kind]


def complete_windows(
    kind: str, hours: Iterable[datetime], *, now: datetime, grace: timedelta = GRACE
) -> list[tuple[datetime, datetime]]:
    """Windows that hold one of `hours` (hours with data) and ended at least `grace` ago, oldest first."""
    windows = {window_of(kind, h) for h in hours}
    return sorted(w for w in windows if w[1] <= now - grace)


def floor_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def ceil_hour(when: datetime) -> datetime:
    floored = floor_hour(when)
    return floored if floored == when else floored + timedelta(hours=1)


def split(kind: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The aligned windows of length `kind` that cover [start, end)."""
    out = []
    w = window_of(kind, start)
    while w[0] < end:
        out.append(w)
        w = (w[1], w[1] + LENGTHS[kind])
    return out
