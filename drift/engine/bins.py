"""Per-row bin codes on the profile's bins, for label-dependent tests (conditional target drift). Pure.

The codes follow the profile's count vectors (`drift.profiles`, `drift.stats.binning`) and add one
code for null at the end, so a reference's and a window's rows fall in the same, comparable bins.

Example:
    >>> from drift.profiles import FeatureBins
    >>> bin_codes([0.5, 5.0, None], FeatureBins("x", "numeric", edges=(0.0, 1.0, 2.0))).tolist()
    [1, 3, 4]
    >>> b = FeatureBins("c", "categorical", categories=("a",), known=("a", "b"))
    >>> bin_codes(["a", "b", "z", None], b).tolist(), bin_count(b)
    ([0, 1, 2, 3], 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drift.profiles import FeatureBins


def bin_count(bins: FeatureBins) -> int:
    """Number of codes: the profile's bins plus one for null."""
    if bins.kind == "numeric":
        return len(bins.edges) + 2 if bins.edges else 2
    if bins.kind == "categorical":
        return len(bins.categories) + 3  # kept, other, unseen, null
    return 3  # false, true, null


def bin_codes(values: Sequence[Any] | NDArray[Any], bins: FeatureBins) -> NDArray[np.intp]:
    """Each value's bin (see the module docstring)."""
    null = bin_count(bins) - 1
    if bins.kind == "numeric":
        x = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        if not bins.edges:
            return np.where(np.isfinite(x), 0, null).astype(np.intp)
        e = np.asarray(bins.edges, dtype=np.float64)
        idx = np.searchsorted(e, x, side="right")
        idx[x == e[-1]] = e.size - 1  # the last inner bin is closed on the right, as in bin_counts
        return np.where(np.isfinite(x), idx, null).astype(np.intp)
    if bins.kind == "categorical":
        kept = {c: i for i, c in enumerate(bins.categories)}
        known = set(bins.known)
        other, unseen = len(bins.categories), len(bins.categories) + 1
        return np.array(
            [null if v is None else kept.get(str(v), other if str(v) in known else unseen) for v in values],
            dtype=np.intp,
        )
    return np.array(
        [null if v is None else int(v in (True, "True", "true", 1)) for v in values], dtype=np.intp
    )


def bin_names(bins: FeatureBins) -> list[str]:
    """Readable names of the codes, e.g. ``[< 0, 0 - 1, …, > 2, null]``."""
    if bins.kind == "numeric":
        if not bins.edges:
            return ["any", "null"]
        e = bins.edges
        inner = [f"{e[i]:.4g} to {e[i + 1]:.4g}" for i in range(len(e) - 1)]
        return [f"< {e[0]:.4g}", *inner, f"> {e[-1]:.4g}", "null"]
    if bins.kind == "categorical":
        return [*bins.categories, "other", "unseen", "null"]
    return ["false", "true", "null"]
