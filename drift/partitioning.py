"""Weekly partitions of the predictions table on PostgreSQL: names, bounds and retention cut-offs. Pure.

A partition holds one UTC week of prediction time (Monday 00:00 to the next Monday) and is named after
its first day; rows outside every week that has a partition land in the default partition.

Example:
    >>> from datetime import UTC, datetime
    >>> friday = datetime(2026, 11, 20, 13, 45, tzinfo=UTC)
    >>> partition_name(week_start(friday))
    'drift_predictionlog_w20261116'
    >>> partition_start("drift_predictionlog_w20261116").isoformat()
    '2026-11-16T00:00:00+00:00'
    >>> partition_start("drift_predictionlog_default") is None
    True
    >>> [s.day for s in weeks_ahead(friday, 2)]
    [16, 23, 30]
    >>> prune_cutoff(friday, 30, whole_weeks=True).isoformat()  # 30 days back is Wed 21 October
    '2026-10-19T00:00:00+00:00'
    >>> prune_cutoff(friday, 30, whole_weeks=False).isoformat()
    '2026-10-21T00:00:00+00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

PARENT = "drift_predictionlog"
DEFAULT_PARTITION = f"{PARENT}_default"
PERIOD = timedelta(weeks=1)
_NAME = re.compile(rf"^{PARENT}_w(\d{{8}})$")


def day_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(when: datetime) -> datetime:
    """Monday 00:00 UTC of the week that holds `when` (the same weeks as weekly analysis windows)."""
    day = day_start(when)
    return day - timedelta(days=day.weekday())


def partition_name(start: datetime) -> str:
    return f"{PARENT}_w{start:%Y%m%d}"


def partition_start(name: str) -> datetime | None:
    """The first instant of a weekly partition named by `partition_name`; None for any other table."""
    found = _NAME.match(name)
    if not found:
        return None
    start = datetime.strptime(found.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return start if start.weekday() == 0 else None


def weeks_ahead(now: datetime, ahead: int) -> list[datetime]:
    """Starts of the current week and of the `ahead` weeks after it."""
    first = week_start(now)
    return [first + k * PERIOD for k in range(ahead + 1)]


def prune_cutoff(now: datetime, days: int, *, whole_weeks: bool) -> datetime:
    """Rows before this instant go. At least `days` days are kept: whole weeks with partitions (a partition
    goes when its last day is older than that), whole UTC days without."""
    oldest_kept = now - timedelta(days=days)
    return week_start(oldest_kept) if whole_weeks else day_start(oldest_kept)
