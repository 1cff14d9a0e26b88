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
    >>> is_identifier(b, reference_count=3), is_identifier(b, reference_count=1_000)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from drift.profiles import FeatureBins, ProfileSpec
from drift.stats.univariate import chi_square

# A categorical feature with more distinct reference values than the profile keeps, and at least this
# many per reference row, is an identifier (customer id, hashed e-mail): every window brings new ones.
IDENTIFIER_SHARE = 0.5
# The chi-square approximation needs an expected count of at least this in every cell (Cochran);
# sparser categories are pooled, and a 2 x 2 table that stays sparse gets Fisher's exact test.
MIN_EXPECTED = 5.0


def is_identifier(bins: FeatureBins, reference_count: int) -> bool:
    """Whether a categorical feature is identifier-like: its values say who, not what.

    Such a feature is never compared (data drift) nor crossed with the score (conditional target
    drift): each window brings new values by design, and its bins hold one row or two each.
    """
    return (
        bins.kind == "categorical"
        and len(bins.known) > len(bins.categories)
        and len(bins.known) >= IDENTIFIER_SHARE * reference_count
    )


def identifier_features(spec: ProfileSpec, reference: Mapping[str, Any]) -> frozenset[str]:
    """The identifier-like features of a spec, judged on the reference's sketch (`drift.profiles`)."""
    counts = reference.get("features") or {}
    return frozenset(
        b.name for b in spec.features if is_identifier(b, int((counts.get(b.name) or {}).get("count", 0)))
    )


def bin_count(bins: FeatureBins) -> int:
    """Number of codes: the profile's bins plus one for null."""
    if bins.kind == "numeric":
        return len(bins.edges) + 2 if bins.edges else 2
    if bins.kind == "categorical":
        return len(bins.categories) + 3  # kept, other, unseen, null
    return 3  # false, true, null


_TEXT_TYPES = frozenset({str, type(None)})


def _floats(values: Sequence[Any] | NDArray[Any]) -> NDArray[np.float64]:
    """Values as floats, None as NaN (numpy converts None itself; odd values go one by one)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values.astype(np.float64, copy=False)
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def bin_codes(values: Sequence[Any] | NDArray[Any], bins: FeatureBins) -> NDArray[np.intp]:
    """Each value's bin (see the module docstring)."""
    null = bin_count(bins) - 1
    if bins.kind == "numeric":
        x = _floats(values)
        if not bins.edges:
            return np.where(np.isfinite(x), 0, null).astype(np.intp)
        e = np.asarray(bins.edges, dtype=np.float64)
        idx = np.searchsorted(e, x, side="right")
        idx[x == e[-1]] = e.size - 1  # the last inner bin is closed on the right, as in bin_counts
        return np.where(np.isfinite(x), idx, null).astype(np.intp)
    if bins.kind == "categorical":
        other, unseen = len(bins.categories), len(bins.categories) + 1
        # One dict of every reference value's code, looked up by `map` in C: the sections code every
        # categorical feature of 5,000-row samples several times per analysis.
        lookup: dict[Any, int] = dict.fromkeys(bins.known, other)
        lookup.update((c, i) for i, c in enumerate(bins.categories))
        lookup[None] = null
        texts = (
            values
            if set(map(type, values)) <= _TEXT_TYPES
            else [None if v is None else str(v) for v in values]
        )
        return np.fromiter(map(lookup.get, texts, repeat(unseen)), dtype=np.intp, count=len(texts))
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


def pool_sparse(ref: NDArray[Any], cur: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """The 2 x k table with categories too sparse for chi-square pooled into one "other" column.

    A category is sparse when its expected count on the smaller side is below `MIN_EXPECTED`. Sparse
    categories are pooled; while the pool itself is still sparse, the smallest remaining category
    joins it, but one category always stays apart: a 2 x 2 table that is still sparse is left for
    Fisher's exact test. Categories empty on both sides are dropped.

    Example:
        >>> r, c = pool_sparse(np.array([900.0, 300, 100, 15, 5]), np.array([90.0, 30, 10, 3, 0]))
        >>> r.tolist(), c.tolist()
        ([900.0, 300.0, 120.0], [90.0, 30.0, 13.0])
    """
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    total = ref.sum() + cur.sum()
    if total == 0 or ref.size < 2:
        return ref, cur
    smaller = min(ref.sum(), cur.sum())
    expected = (ref + cur) * smaller / total
    order = np.argsort(expected, kind="stable")
    pooled = expected[order] < MIN_EXPECTED
    if not pooled.any():
        return ref, cur
    k = min(int(pooled.sum()), order.size - 1)
    while k < order.size - 1 and expected[order[:k]].sum() < MIN_EXPECTED:
        k += 1
    rest = order[k:][np.argsort(order[k:])]  # the categories kept apart, in their original order
    return np.r_[ref[rest], ref[order[:k]].sum()], np.r_[cur[rest], cur[order[:k]].sum()]


def category_test(ref: NDArray[Any], cur: NDArray[Any]) -> tuple[str, float, float, str]:
    """(method, statistic, p-value, note) of the homogeneity test of two category count vectors, on
    a table adequate for it: sparse categories pooled (`pool_sparse`), Fisher's exact test for a
    2 x 2 table that stays sparse. The note says what was done; "" for a plain chi-square.

    Example:
        >>> method, _, p, note = category_test(np.array([9_900.0, 100]), np.array([116.0, 4]))
        >>> method, round(p, 3), note
        ('fisher_exact', 0.035, "Fisher's exact test: under 5 rows expected in a cell")
    """
    r, c = pool_sparse(ref, cur)
    if r.size < 2:  # one category left: nothing can differ
        return "chi_square", 0.0, 1.0, ""
    expected = np.outer([r.sum(), c.sum()], r + c) / (r.sum() + c.sum())
    if r.size == 2 and expected.min() < MIN_EXPECTED:
        result = stats.fisher_exact(np.vstack([r, c]).astype(np.int64))
        note = f"Fisher's exact test: under {MIN_EXPECTED:g} rows expected in a cell"
        return "fisher_exact", float(result.statistic), float(result.pvalue), note  # statistic: odds ratio
    chi = chi_square(r, c)
    pooled = r.size < int(((ref + cur) > 0).sum())
    note = f"categories with under {MIN_EXPECTED:g} expected rows pooled for the test" if pooled else ""
    return "chi_square", chi.statistic, chi.p_value, note
