"""Data quality: shares and volume judged against control limits from earlier windows. Pure.

Each check (missing share per feature, out-of-range and undeclared-category shares from the fragments'
value-problem counts, late share, refused-record share, volume) goes through `drift.stats.quality`
with the counts that earlier comparable runs stored. Shares use only windows where that check was ok,
so a fault never becomes the new normal. With fewer than three earlier windows a share is judged
against the reference's (missing share) or against zero (value problems, late and refused records),
with both sample sizes in the limit and a one-point materiality floor. Volume uses every recent window
of the version (its limits are robust to faults, and must follow a promotion from canary), compares a
window with the same weekday once three weeks are on record, and is not judged in the first windows.

Example:
    >>> from drift.engine.context import ModelInfo, WindowInput
    >>> from drift.profiles import ProfileSpec
    >>> cur = {"n": 100, "late": 0, "features": {}}
    >>> out = data_quality(WindowInput(ProfileSpec(()), (), ModelInfo("regression"), cur, {"n": 10}))
    >>> out["status"], out["volume"]["status"], out["alerts"]
    ('ok', 'ok', [])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from drift.engine.context import OK, WindowInput, pretty, section
from drift.stats import quality

MIN_HISTORY_FOR_POOLED = 3
MATERIAL_SHARE = 0.01
PROBLEMS = ("out_of_range", "undeclared_category")


def _check(c: quality.QualityCheck, count: int, total: int) -> dict[str, Any]:
    return {
        "status": c.status,
        "observed": c.observed,
        "center": c.center,
        "lower": c.lower,
        "upper": c.upper,
        "rule": c.rule,
        "reason": c.reason,
        "count": int(count),
        "total": int(total),
    }


def _history(inp: WindowInput, pick: Callable[[Mapping[str, Any]], Any]) -> list[tuple[int, int]]:
    """(count, total) of a check in earlier runs where it was ok, oldest first."""
    out = []
    for past in inp.history:
        try:
            got = pick(past["data_quality"])
        except (KeyError, TypeError):
            continue
        if got and got.get("status") == "ok" and got.get("total"):
            out.append((int(got["count"]), int(got["total"])))
    return out


def _versus_reference(
    name: str, count: int, total: int, ref_count: int, ref_total: int
) -> quality.QualityCheck:
    """A share against the reference's (or against zero when the reference has no count for it).

    Both shares are estimates, so the limit uses both sizes (arcsine scale, variance 1 / (4 n) each),
    and it is never below the reference share plus `MATERIAL_SHARE`: a million-row window makes a
    0.2-point difference from a 20k-row reference significant, not worth an alert.
    """
    observed = count / total if total else 0.0
    center = ref_count / ref_total if ref_total else 0.0
    if not total:
        return quality.QualityCheck(name, "ok", observed, center, 0.0, 1.0, "none", "no rows in the window")
    spread = 0.5 * math.sqrt(1 / total + (1 / ref_total if ref_total else 0.0))
    limit = math.sin(min(math.pi / 2, math.asin(math.sqrt(center)) + quality.SIGMAS * spread)) ** 2
    upper = min(1.0, max(limit, center + MATERIAL_SHARE))
    against = "the reference's" if ref_total else "the expected"
    if observed > upper:
        why = f"{name} {observed:.2%} above the limit {upper:.2%} ({against} {center:.2%})"
        return quality.QualityCheck(name, "alert", observed, center, 0.0, upper, "reference", why)
    why = f"{name} {observed:.2%} within the limit {upper:.2%} ({against} {center:.2%})"
    return quality.QualityCheck(name, "ok", observed, center, 0.0, upper, "reference", why)


def _share(
    inp: WindowInput,
    name: str,
    pick: Callable[[Mapping[str, Any]], Any],
    count: int,
    total: int,
    reference: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """Against earlier windows once there are enough of them, else against the reference."""
    history = _history(inp, pick)
    if len(history) >= MIN_HISTORY_FOR_POOLED:
        check = quality.judge_shares(history, (count, total), name=name)
    else:
        check = _versus_reference(name, count, total, *reference)
    return _check(check, count, total)


def _day(inp: WindowInput) -> int | None:
    """The window's day number (days since 1970-01-01, UTC) when it lasts a day or less: the key of
    the weekly comparison. None for longer windows, which hold whole weeks or a mix of weekdays."""
    if inp.window_start is None or inp.window_end is None:
        return None
    if inp.window_end - inp.window_start > timedelta(days=1):
        return None
    return int(inp.window_start.timestamp() // 86_400)


def _volume(inp: WindowInput, n: int) -> dict[str, Any]:
    """The row count against the recent windows of this version, whatever their verdict (the check is
    robust to their faults), by weekday once there are three weeks of them (`quality.volume_check`).
    Each result keeps its day, so later windows know which weekday it was."""
    counts, days = [], []
    for past in inp.history:
        got = (past.get("data_quality") or {}).get("volume") or {}
        if got.get("count") is not None:
            counts.append(int(got["count"]))
            days.append(got.get("day"))
    day = _day(inp)
    check = quality.volume_check(counts, n, history_days=days, day=day)
    return {**_check(check, n, n), "day": day}


def _feature_note(kind: str, feat: Mapping[str, Any]) -> str:
    if not feat.get("count"):
        return "always null in this window"
    if kind == "numeric" and feat.get("count", 0) > 1 and feat.get("min") == feat.get("max"):
        return f"constant ({feat['min']:g}) in this window"
    if kind == "categorical" and sum(1 for c in feat.get("bins", []) if c) == 1:
        return "a single value in this window"
    if kind == "boolean" and feat.get("true") in (0, feat.get("count")):
        return f"always {'true' if feat.get('true') else 'false'} in this window"
    return ""


@section
def data_quality(inp: WindowInput) -> dict[str, Any]:
    n = int(inp.current.get("n", 0))
    ref_n = int(inp.reference.get("n", 0))
    issues = inp.current.get("issues", {})
    features: dict[str, Any] = {}
    checks: list[tuple[str, dict[str, Any]]] = []
    for info in inp.features:
        feat = inp.current.get("features", {}).get(info.name, {})
        ref_feat = inp.reference.get("features", {}).get(info.name, {})
        nulls = int(feat.get("nulls", 0))
        entry: dict[str, Any] = {
            "missing": _share(
                inp,
                f"missing share of {pretty(info.name)}",
                lambda h, f=info.name: h["features"][f]["missing"],
                nulls,
                n,
                (int(ref_feat.get("nulls", 0)), ref_n),
            ),
        }
        checks.append((f"missing:{info.name}", entry["missing"]))
        for problem in PROBLEMS:
            count = int(issues.get(info.name, {}).get(problem, 0))
            if count or any(
                problem in h.get("data_quality", {}).get("features", {}).get(info.name, {})
                for h in inp.history
            ):
                label = f"{problem.replace('_', '-')} share of {pretty(info.name)}"
                entry[problem] = _share(
                    inp, label, lambda h, f=info.name, p=problem: h["features"][f][p], count, n
                )
                checks.append((f"{problem}:{info.name}", entry[problem]))
        note = _feature_note(info.kind, feat)
        if note:
            entry["note"] = f"{pretty(info.name)} is {note}."
        features[info.name] = entry
    late = int(inp.current.get("late", 0))
    late_check = _share(inp, "late share", lambda h: h["late"], late, n)
    accepted, rejected = int(inp.batches.get("accepted", 0)), int(inp.batches.get("rejected", 0))
    refused = _share(inp, "refused-record share", lambda h: h["refused"], rejected, accepted + rejected)
    volume = _volume(inp, n)
    checks += [("late", late_check), ("refused", refused), ("volume", volume)]
    return {
        "status": OK,
        "rows": n,
        "features": features,
        "late": late_check,
        "refused": refused,
        "volume": volume,
        "alerts": [name for name, c in checks if c["status"] == "alert"],
    }
