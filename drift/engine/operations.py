"""Operations: latency quantiles, error rate and volume from the profile, health samples from the DB. Pure.

Example:
    >>> from drift.engine.context import ModelInfo, WindowInput
    >>> from drift.profiles import ProfileSpec
    >>> out = operations_section(WindowInput(ProfileSpec(()), (), ModelInfo("regression"),
    ...                                      {"n": 200, "errors": 2}, {}))
    >>> out["error_rate"], out["errors"]["status"]
    (0.01, 'ok')
"""

from __future__ import annotations

import statistics
from typing import Any

from drift.engine.context import OK, WindowInput, section
from drift.profiles import latency_quantiles
from drift.stats import quality

# p95 latency this many times its usual value (median of earlier windows) is reported as slower.
SLOWER = 1.5


@section
def operations_section(inp: WindowInput) -> dict[str, Any]:
    n = int(inp.current.get("n", 0))
    errors = int(inp.current.get("errors", 0))
    history = [h.get("operations", {}) for h in inp.history]
    past_errors = [
        (int(h["errors"]["count"]), int(h["errors"]["total"]))
        for h in history
        if h.get("errors", {}).get("status") == "ok" and h["errors"].get("total")
    ]
    check = quality.judge_shares(past_errors, (errors, n), name="error rate")
    out: dict[str, Any] = {
        "status": OK,
        "volume": n,
        "error_rate": errors / n if n else None,
        "errors": {
            "status": check.status,
            "count": errors,
            "total": n,
            "upper": check.upper,
            "reason": check.reason,
        },
    }
    latency = inp.current.get("latency") or {}
    if latency.get("count"):
        quantiles = latency_quantiles(latency)
        out["latency_ms"] = {
            **quantiles,
            "mean": latency["sum"] / latency["count"],
            "max": latency.get("max"),
            "count": latency["count"],
        }
        past = [h["latency_ms"]["p95"] for h in history if (h.get("latency_ms") or {}).get("p95")]
        if past and quantiles.get("p95"):
            usual = statistics.median(past)
            out["latency_ms"]["usual_p95"] = usual
            out["latency_ms"]["slower"] = bool(quantiles["p95"] > SLOWER * usual)
    else:
        out["latency_ms"] = None
    out["health"] = dict(inp.health) if inp.health else {"samples": 0}
    return out
