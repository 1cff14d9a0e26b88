"""Which features drive the model, and is that changing? Plus how confident its scores are.

* With per-record attributions (SHAP-like values sent at ingestion): importance = mean |attribution|
  per feature per window.
* Without them, a surrogate: the mutual information between each feature (numeric values binned
  on quantile edges, categories as codes) and the prediction, in nats.

Either way the window's ranking is compared with the reference's by Spearman's rank correlation
(1 = same order) and the overlap of the top-k features. Separately, ``confidence_summary``
tracks the score distribution and the share of low-confidence scores, |score - 0.5| < margin.

Example:
    >>> import numpy as np
    >>> ref = attribution_importance(np.array([[0.5, -0.1, 0.0], [-0.7, 0.2, 0.1]]), ["a", "b", "c"])
    >>> ref.ranking
    ('a', 'b', 'c')
    >>> win = attribution_importance(np.array([[0.1, 0.9, 0.0], [0.1, -0.5, 0.05]]), ["a", "b", "c"])
    >>> compare_rankings(ref, win).spearman
    0.5
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata
from scipy.stats import t as student_t

DEFAULT_BINS = 10
DEFAULT_MARGIN = 0.1


@dataclass(frozen=True)
class FeatureImportance:
    """Importance per feature (same order as ``features``) and how it was measured."""

    features: tuple[str, ...]
    values: tuple[float, ...]
    method: str

    @property
    def ranking(self) -> tuple[str, ...]:
        """Features from most to least important (ties keep input order)."""
        order = np.argsort(-np.asarray(self.values), kind="stable")
        return tuple(self.features[i] for i in order)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.features, self.values, strict=True))


@dataclass(frozen=True)
class RankingComparison:
    """Spearman correlation of importances over shared features, its p-value (t approximation,
    as SciPy), the share of the reference's top-k still in the window's top-k, and each feature's
    rank change (positive = fell)."""

    spearman: float | None
    p_value: float | None
    top_k_overlap: float
    rank_changes: dict[str, int]
    reason: str | None = None


@dataclass(frozen=True)
class ConfidenceSummary:
    n: int
    mean: float | None
    std: float | None
    quantiles: dict[str, float]
    histogram: tuple[int, ...]
    low_confidence_share: float | None


def attribution_importance(attributions: ArrayLike, features: Sequence[str]) -> FeatureImportance:
    """Mean absolute attribution per feature over the window's ``(n_rows, n_features)`` matrix.

    NaN attributions (a feature absent from a record) are skipped for that feature.

    Example:
        >>> attribution_importance([[1.0, -2.0], [-3.0, np.nan]], ["x", "y"]).values
        (2.0, 2.0)
    """
    a = np.abs(np.asarray(attributions, dtype=float).reshape(-1, len(features)))
    present = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(present, a, 0.0).sum(axis=0) / present.sum(axis=0)
    return FeatureImportance(tuple(features), tuple(float(v) for v in means), "mean_abs_attribution")


def compare_rankings(
    reference: FeatureImportance, window: FeatureImportance, *, top_k: int = 5
) -> RankingComparison:
    """Compare a window's feature importance with the reference's, over the features both have.

    Example:
        >>> ref = FeatureImportance(("a", "b", "c", "d"), (4.0, 3.0, 2.0, 1.0), "x")
        >>> win = FeatureImportance(("a", "b", "c", "d"), (3.0, 4.0, 2.0, 1.0), "x")
        >>> result = compare_rankings(ref, win, top_k=2)
        >>> round(result.spearman, 4), result.top_k_overlap, result.rank_changes["a"]
        (0.8, 1.0, 1)
    """
    ref, win = reference.as_dict(), window.as_dict()
    shared = [f for f in reference.features if f in win and np.isfinite(ref[f]) and np.isfinite(win[f])]
    r = np.array([ref[f] for f in shared])
    w = np.array([win[f] for f in shared])
    ref_rank = {f: i for i, f in enumerate(f for f in reference.ranking if f in shared)}
    win_rank = {f: i for i, f in enumerate(f for f in window.ranking if f in shared)}
    changes = {f: win_rank[f] - ref_rank[f] for f in shared}
    k = min(top_k, len(shared))
    top_ref = {f for f, i in ref_rank.items() if i < k}
    top_win = {f for f, i in win_rank.items() if i < k}
    overlap = len(top_ref & top_win) / k if k else float("nan")
    if len(shared) < 2:
        return RankingComparison(None, None, overlap, changes, "fewer than two features in common")
    rr, rw = rankdata(r), rankdata(w)
    if np.ptp(rr) == 0 or np.ptp(rw) == 0:
        return RankingComparison(None, None, overlap, changes, "all importances tied")
    rho = float(np.clip(np.corrcoef(rr, rw)[0, 1], -1.0, 1.0))
    dof = len(shared) - 2
    p_value = None
    if dof > 0:
        tstat = rho * np.sqrt(dof / max(1 - rho * rho, 1e-300))
        p_value = float(2 * student_t.sf(abs(tstat), dof))
    return RankingComparison(rho, p_value, overlap, changes)


def discretise(
    values: ArrayLike, edges: ArrayLike | None = None, *, n_bins: int = DEFAULT_BINS
) -> NDArray[np.intp]:
    """Integer codes: numeric values with more than ``n_bins`` distinct values are binned on
    ``edges`` (inner cut points; default: quantiles of ``values``), anything else is coded by
    value. Missing numeric values (NaN) get a code of their own.

    Example:
        >>> discretise([0.1, 0.5, 0.9, np.nan], edges=[0.3, 0.7]).tolist()
        [0, 1, 2, 3]
        >>> discretise(["b", "a", "b"]).tolist()
        [1, 0, 1]
    """
    v = np.asarray(values)
    if v.dtype.kind in "fiub" and (edges is not None or len(np.unique(v)) > n_bins):
        x = v.astype(float)
        if edges is None:
            edges = np.nanquantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]) if np.isfinite(x).any() else []
        e = np.unique(np.asarray(edges, dtype=float))
        return np.where(np.isnan(x), len(e) + 1, np.searchsorted(e, x, side="right")).astype(np.intp)
    return np.unique(v.astype(str) if v.dtype == object else v, return_inverse=True)[1].astype(np.intp)


def entropy(codes: ArrayLike) -> float:
    """Plug-in Shannon entropy in nats.

    Example:
        >>> round(entropy([0, 1, 0, 1]), 4)  # ln 2
        0.6931
    """
    counts = np.unique(np.asarray(codes), return_counts=True)[1]
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p))) if len(p) else float("nan")


def mutual_information(x_codes: ArrayLike, y_codes: ArrayLike) -> float:
    """Plug-in mutual information I(X; Y) in nats from two code arrays (the contingency table).

    The plug-in estimate is biased upward by about (|X| - 1)(|Y| - 1) / (2 n), which is why
    numeric features are binned into a fixed, small number of bins before comparing features.

    Example:
        >>> round(mutual_information([0, 0, 1, 1], [0, 0, 1, 1]), 4)  # = H(X) = ln 2
        0.6931
        >>> mutual_information([0, 0, 1, 1], [0, 1, 0, 1])
        0.0
    """
    return _mutual_information_dense(_dense(x_codes), _dense(y_codes))


def _dense(codes: ArrayLike) -> NDArray[np.intp]:
    """Codes relabelled 0..k-1 in sorted order: ``np.unique(codes, return_inverse=True)[1]``, by
    counting instead of sorting when they are small non-negative integers (profile bins)."""
    a = np.asarray(codes)
    if a.dtype.kind in "iu" and a.size and a.min() >= 0 and a.max() < 4 * a.size + 64:
        present = np.bincount(a) > 0
        return (np.cumsum(present) - 1)[a].astype(np.intp)
    return np.unique(a, return_inverse=True)[1].astype(np.intp)


def _mutual_information_dense(x: NDArray[np.intp], y: NDArray[np.intp]) -> float:
    n = len(x)
    if n == 0:
        return float("nan")
    ky = int(y.max()) + 1
    joint = np.bincount(x * ky + y, minlength=(int(x.max()) + 1) * ky).reshape(-1, ky) / n
    px, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(max(np.sum(joint[nz] * np.log(joint[nz] / (px @ py)[nz])), 0.0))


def surrogate_importance(
    features: Mapping[str, ArrayLike],
    prediction: ArrayLike,
    *,
    edges: Mapping[str, ArrayLike] | None = None,
    n_bins: int = DEFAULT_BINS,
    coded: Collection[str] = (),
) -> FeatureImportance:
    """Mutual information between each feature and the prediction (scores binned too).

    Pass the reference's ``edges`` per numeric feature so windows are binned alike. Features named
    in ``coded`` already hold integer category codes (e.g. profile bins) and are used as they are:
    mutual information does not depend on how categories are labelled.

    Example:
        >>> x = np.arange(100.0)
        >>> imp = surrogate_importance({"x": x, "noise": np.zeros(100)}, x > 50)
        >>> imp.ranking
        ('x', 'noise')
    """
    y = _dense(discretise(prediction, n_bins=n_bins))  # once, not once per feature
    names = tuple(features)
    given = edges or {}
    values = tuple(
        _mutual_information_dense(
            _dense(features[f] if f in coded else discretise(features[f], given.get(f), n_bins=n_bins)), y
        )
        for f in names
    )
    return FeatureImportance(names, values, "mutual_information")


def confidence_summary(scores: ArrayLike, *, margin: float = DEFAULT_MARGIN) -> ConfidenceSummary:
    """Distribution of binary scores: mean, sd, quantiles, a 10-bin histogram over [0, 1], and the
    share of rows with |score - 0.5| < ``margin`` (the model barely prefers either class).

    Example:
        >>> confidence_summary([0.05, 0.45, 0.55, 0.95]).low_confidence_share
        0.5
    """
    s = np.asarray(scores, dtype=float)
    s = s[np.isfinite(s)]
    hist = np.histogram(np.clip(s, 0.0, 1.0), bins=10, range=(0.0, 1.0))[0]
    if len(s) == 0:
        return ConfidenceSummary(0, None, None, {}, tuple(int(c) for c in hist), None)
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    quantiles = dict(
        zip((f"p{round(q * 100)}" for q in levels), np.quantile(s, levels).tolist(), strict=True)
    )
    return ConfidenceSummary(
        n=len(s),
        mean=float(s.mean()),
        std=float(s.std(ddof=1)) if len(s) > 1 else 0.0,
        quantiles=quantiles,
        histogram=tuple(int(c) for c in hist),
        low_confidence_share=float(np.mean(np.abs(s - 0.5) < margin)),
    )


def confidence_by_window(
    scores: ArrayLike, windows: ArrayLike, *, margin: float = DEFAULT_MARGIN
) -> dict[str, ConfidenceSummary]:
    """``confidence_summary`` per window label (e.g. the day of each row), in sorted order.

    Example:
        >>> out = confidence_by_window([0.5, 0.9, 0.1], ["mon", "mon", "tue"])
        >>> out["mon"].low_confidence_share, out["tue"].n
        (0.5, 1)
    """
    s, w = np.asarray(scores, dtype=float), np.asarray(windows)
    return {str(key): confidence_summary(s[w == key], margin=margin) for key in np.unique(w)}
