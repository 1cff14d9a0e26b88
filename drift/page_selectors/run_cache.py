"""What the pages read of each finished run, cached by (run id, when it finished).

A run's results are written once, with its `finished_at`, and a re-run of the same window rewrites them
with a new `finished_at` (`drift.services.analyses._store`): so a key holding both is never stale, and
needs no invalidation. Unfinished runs are never cached. The cache is the default one (this process's
memory, or Redis with CACHE_URL); a cache that fails is a miss, never an error on a page.

The pages then cost a few small queries for the runs and the governance state, whatever the windows
hold: the summaries of 30 windows, the heatmap cells and the chosen window's full results come from
here after the first reader.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache

from drift.models import AnalysisRun, RunStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
TTL = 7 * 86_400  # a week: old windows drop out; a later reader recomputes them


def _key(kind: str, run: AnalysisRun) -> str | None:
    if run.status != RunStatus.DONE or run.finished_at is None:
        return None
    return f"pages:{kind}:{run.pk}:{run.finished_at.timestamp():.6f}"


def per_run(
    kind: str, runs: Iterable[AnalysisRun], compute: Callable[[list[AnalysisRun]], dict[int, T]]
) -> dict[int, T]:
    """`{run id: value}` for `runs`, in their order: cached values, and `compute(missing runs)` for the
    others (then stored)."""
    runs = list(runs)
    keys = {r.pk: k for r in runs if (k := _key(kind, r)) is not None}
    try:
        found = cache.get_many(list(keys.values())) if keys else {}
    except Exception:  # Redis down or slow: read the database instead
        log.warning("page cache unavailable; reading the database", exc_info=True)
        found = {}
    out = {pk: found[k] for pk, k in keys.items() if k in found}
    missing = [r for r in runs if r.pk not in out]
    if missing:
        fresh = compute(missing)
        out.update(fresh)
        new = {keys[pk]: value for pk, value in fresh.items() if pk in keys}
        if new:
            try:
                cache.set_many(new, TTL)
            except Exception:
                log.warning("page cache unavailable; not storing", exc_info=True)
    return {r.pk: out[r.pk] for r in runs if r.pk in out}


def one_run(kind: str, run: AnalysisRun, compute: Callable[[AnalysisRun], Any]) -> Any:
    return per_run(kind, [run], lambda runs: {r.pk: compute(r) for r in runs})[run.pk]
