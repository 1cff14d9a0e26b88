"""Which bins of a conditional table moved: score band (and feature bin), reference vs window rate. Pure.

The per-bin test (`drift.stats.target_rule`) names the cells whose target rate moved; the pages and the
narrative say where in words ("among predictions scored 0.42 to 0.57 … 18%, where the reference says 9%").
A cell of the score table is a score decile (codes `0..len(edges)`, then one for a missing score); a
cell of a feature's table is (feature bin, score decile), decile last, as `drift.engine.reference.crossed`.

Example:
    >>> moves = moved_cells([2], [100, 100, 100, 0], [10, 20, 30, 0], [80, 80, 80, 0], [8, 16, 48, 0],
    ...                     edges=[0.2, 0.5])
    >>> moves[0]["score_band"], moves[0]["reference_rate"], moves[0]["window_rate"]
    ('0.5 or more', 0.3, 0.6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The largest moves kept per table: enough for the page and the narrative, small in the stored result.
MAX_MOVES = 5

_READABLE = {"null": "missing", "other": "other values", "unseen": "values the reference never had"}


def score_band(code: int, edges: Sequence[float]) -> tuple[float | None, float | None]:
    """(low, high) of a score decile's code, None for an open end; (None, None) for a missing score.

    Example:
        >>> score_band(0, [0.2, 0.5]), score_band(1, [0.2, 0.5]), score_band(3, [0.2, 0.5])
        ((None, 0.2), (0.2, 0.5), (None, None))
    """
    if code > len(edges):
        return None, None
    return (float(edges[code - 1]) if code > 0 else None, float(edges[code]) if code < len(edges) else None)


def _figure(x: float, digits: int = 2) -> str:
    """`digits` significant figures; whole numbers, with separators, once those run out (amounts)."""
    return f"{x:,.0f}" if abs(x) >= 10**digits else f"{x:.{digits}g}"


def band_text(low: float | None, high: float | None) -> str:
    """`0.27 to 0.36`, `below 0.05`, `1,200 or more`, `no score`: two significant figures, more when
    two would make both ends look the same.

    Example:
        >>> band_text(0.2712, 0.3612), band_text(2.314, 2.336), band_text(None, 0.0523)
        ('0.27 to 0.36', '2.31 to 2.34', 'below 0.052')
        >>> band_text(1200.0, None), band_text(None, None)
        ('1,200 or more', 'no score')
    """
    if low is None:
        return "no score" if high is None else f"below {_figure(high)}"
    if high is None:
        return f"{_figure(low)} or more"
    digits = next((d for d in range(2, 7) if _figure(low, d) != _figure(high, d)), 7)
    return f"{_figure(low, digits)} to {_figure(high, digits)}"


def readable_bin(name: str) -> str:
    """A feature bin's name (`drift.engine.bins.bin_names`) for a sentence: `< 0` → `below 0`."""
    if name.startswith("< "):
        return "below " + name[2:]
    if name.startswith("> "):
        return "above " + name[2:]
    return _READABLE.get(name, name)


def moved_cells(
    flagged: Sequence[int],
    reference_n: Sequence[float],
    reference_positives: Sequence[float],
    window_n: Sequence[float],
    window_positives: Sequence[float],
    *,
    edges: Sequence[float],
    feature_bins: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The flagged cells, largest move first (at most `MAX_MOVES`): score band, the feature bin when
    the table crosses a feature (`feature_bins`: its bins' names), rows and target rate on each side."""
    deciles = len(edges) + 2
    out = []
    for cell in flagged:
        ref_n, win_n = float(reference_n[cell]), float(window_n[cell])
        low, high = score_band(cell % deciles, edges)
        move: dict[str, Any] = {
            "cell": int(cell),
            "score_low": low,
            "score_high": high,
            "score_band": band_text(low, high),
            "reference_n": round(ref_n),
            "reference_rate": float(reference_positives[cell]) / ref_n,
            "window_n": round(win_n),
            "window_rate": float(window_positives[cell]) / win_n,
        }
        if feature_bins is not None:
            move["feature_bin"] = readable_bin(feature_bins[cell // deciles])
        out.append(move)
    out.sort(key=lambda m: -abs(m["window_rate"] - m["reference_rate"]))
    return out[:MAX_MOVES]
