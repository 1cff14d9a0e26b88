"""The pages' per-run cache: a finished run is read once per finish time; unfinished runs never cached."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drift.models import AnalysisRun, RunStatus
from drift.page_selectors.run_cache import per_run

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def run(pk: int, status: str = RunStatus.DONE, finished: datetime | None = T0) -> AnalysisRun:
    return AnalysisRun(pk=pk, status=status, finished_at=finished, window_start=T0, window_end=T0)


class Counting:
    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def __call__(self, runs: list[AnalysisRun]) -> dict[int, Any]:
        self.asked.append([r.pk for r in runs])
        return {r.pk: f"value of {r.pk} at {r.finished_at}" for r in runs}


def test_finished_runs_are_computed_once_and_answered_in_the_order_asked() -> None:
    compute = Counting()
    first = per_run("test", [run(1), run(2)], compute)
    again = per_run("test", [run(2), run(3), run(1)], compute)
    assert compute.asked == [[1, 2], [3]]
    assert list(again) == [2, 3, 1] and again[1] == first[1]


def test_a_re_run_with_a_new_finish_time_is_computed_again() -> None:
    compute = Counting()
    per_run("test", [run(1)], compute)
    later = per_run("test", [run(1, finished=T0 + timedelta(minutes=5))], compute)
    assert compute.asked == [[1], [1]] and "00:05" in later[1]


@pytest.mark.parametrize(
    "unfinished", [run(1, status=RunStatus.RUNNING, finished=None), run(1, finished=None)]
)
def test_unfinished_runs_are_never_cached(unfinished: AnalysisRun) -> None:
    compute = Counting()
    per_run("test", [unfinished], compute)
    per_run("test", [unfinished], compute)
    assert compute.asked == [[1], [1]]


def test_a_cache_that_fails_is_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import cache

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", broken)
    monkeypatch.setattr(cache, "set_many", broken)
    compute = Counting()
    assert per_run("test", [run(1)], compute) == {1: f"value of 1 at {T0}"}
