"""Seeded reference/production data with known injected changes, for tests and benchmarks.

Features come from a Gaussian copula (latent correlation ``0.5 ** |i - j|``), so they are
correlated like real data and a correlation change can leave every marginal intact. Numeric
features cycle through four shapes: normal, log-normal (skewed), logistic-bounded in (0, 1), and an
integer count with many ties. Categorical ``cat_j`` takes values ``"c0".."c4"`` with Zipf-like
shares. Missing values: 2 % NaN per numeric feature, 1 % None per categorical one.

The labels follow a known logistic model ``P(y=1|x) = sigmoid(b0 + sum w_j z_j + category effect)``
with ``z_j`` the feature standardised by reference constants (a missing value contributes 0). The
model's ``score`` is exactly that function, so it is calibrated on the reference; ``p_true`` is
the probability the labels were actually drawn from, which departs from ``score`` only under
concept, calibration and fairness scenarios.

``injected`` names what changed: a feature name when its distribution of non-missing values
changed; ``"missing:<feature>"`` / ``"unseen:<feature>"`` for a missing-value burst / a new
category; ``"concept"``, ``"calibration"``, ``"fairness"``, ``"correlation"`` for the rest. A
``"stationary"`` scenario injects nothing.

Example:
    >>> sc = make_scenario("mean_shift", n_reference=1_000, n_current=500, seed=1)
    >>> sorted(sc.injected), sc.drifted_features, sc.current.features["num_0"].shape
    (['num_0'], ('num_0',), (500,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

KINDS = (
    "stationary",
    "mean_shift",
    "variance_change",
    "category_reweighting",
    "new_category",
    "missing_burst",
    "concept_shift",
    "calibration_shift",
    "fairness_gap",
    "correlation_change",
)
#: Default size of each change (units in brackets).
MAGNITUDES = {
    "mean_shift": 0.5,  # shift of the mean [reference std]
    "variance_change": 1.5,  # factor on the spread around the reference mean
    "category_reweighting": 0.1,  # share taken from the most common category, spread over the rest
    "new_category": 0.05,  # share of current rows in a category the reference never saw
    "missing_burst": 0.15,  # missing share in the current window (reference: 2 %)
    "concept_shift": 1.0,  # 1.0 flips the sign of the first feature's weight
    "calibration_shift": 1.0,  # offset added to the true logit
    "fairness_gap": 1.0,  # offset subtracted from the true logit in group "B"
    "correlation_change": 1.0,  # 1.0 makes the latent features independent
}
_NUMERIC_KINDS = {"mean_shift", "variance_change", "missing_burst"}
_CATEGORICAL_KINDS = {"category_reweighting", "new_category"}
CATEGORIES = ("c0", "c1", "c2", "c3", "c4")
_CATEGORY_SHARES = np.array([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]) / sum([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
_CATEGORY_EFFECTS = np.array([-0.6, -0.2, 0.1, 0.4, 0.8])
_INTERCEPT = -0.9  # about 30 % positives
_WEIGHTS = (0.9, -0.7, 0.5, 0.35)  # cycled over numeric features
_MISSING = {"numeric": 0.02, "categorical": 0.01}

ObjArray = NDArray[np.object_]


@dataclass(frozen=True)
class Sample:
    """One side of a scenario: feature columns plus labels, scores and group columns."""

    features: dict[str, NDArray]  # numeric: float with NaN; categorical: object of str with None
    y: NDArray[np.int64]
    score: NDArray[np.float64]  # the model's P(y=1|x)
    prediction: NDArray[np.int64]  # score >= 0.5
    p_true: NDArray[np.float64]  # the P(y=1|x) the labels were drawn from
    sensitive: ObjArray  # "A" (70 %) or "B"
    segment: ObjArray  # "north", "south", "east", "west"

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.y.size)

    def numeric_matrix(self, names: tuple[str, ...]) -> NDArray[np.float64]:
        """Numeric columns stacked as an ``(n, len(names))`` array (NaN kept)."""
        return np.column_stack([self.features[n] for n in names]).astype(np.float64)


@dataclass(frozen=True)
class Scenario:
    """A reference and a current sample, and what was injected between them."""

    kind: str
    reference: Sample
    current: Sample
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    injected: frozenset[str]
    magnitude: float

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """Features whose distribution of non-missing values changed, in column order."""
        return tuple(f for f in (*self.numeric, *self.categorical) if f in self.injected)


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _latent(rng: np.random.Generator, n: int, d: int, independent: float = 0.0) -> NDArray[np.float64]:
    idx = np.arange(d)
    corr = 0.5 ** np.abs(idx[:, None] - idx[None, :])
    corr = (1 - independent) * corr + independent * np.eye(d)  # unit diagonal: marginals stay N(0, 1)
    return rng.standard_normal((n, d)) @ np.linalg.cholesky(corr).T


def _numeric(z: NDArray[np.float64], j: int) -> NDArray[np.float64]:
    shape = j % 4
    if shape == 0:
        return 50.0 + 10.0 * z
    if shape == 1:
        return 1000.0 * np.exp(0.5 * z)
    if shape == 2:
        return _sigmoid(1.7 * z)
    return np.floor(np.exp(0.6 * z + 1.0))  # counts 0, 1, 2, ... with many ties


def _categorical(z: NDArray[np.float64], shares: NDArray[np.float64]) -> ObjArray:
    # 1.702 z through a sigmoid approximates the normal CDF (error < 0.01) with numpy alone.
    cut = np.cumsum(shares)[:-1]
    return np.asarray(CATEGORIES, dtype=object)[np.searchsorted(cut, _sigmoid(1.702 * z))]


def _features(
    rng: np.random.Generator,
    n: int,
    n_num: int,
    n_cat: int,
    independent: float = 0.0,
    shares: dict[int, NDArray[np.float64]] | None = None,
) -> dict[str, NDArray]:
    z = _latent(rng, n, n_num + n_cat, independent)
    cols: dict[str, NDArray] = {f"num_{j}": _numeric(z[:, j], j) for j in range(n_num)}
    for j in range(n_cat):
        cols[f"cat_{j}"] = _categorical(z[:, n_num + j], (shares or {}).get(j, _CATEGORY_SHARES))
    for name, col in cols.items():
        gone = rng.random(n) < _MISSING["numeric" if name.startswith("num_") else "categorical"]
        col[gone] = np.nan if col.dtype.kind == "f" else None
    return cols


def _logit(cols: dict[str, NDArray], stats: dict[str, tuple[float, float]], flip: float = 0.0) -> NDArray:
    n = next(iter(cols.values())).size
    logit = np.full(n, _INTERCEPT)
    for j, (name, (mean, std)) in enumerate(stats.items()):
        weight = _WEIGHTS[j % len(_WEIGHTS)] * (1 - 2 * flip if j == 0 else 1.0)
        logit += weight * np.nan_to_num((cols[name] - mean) / std)
    cats = [c for c in cols if c.startswith("cat_")]
    for k, name in enumerate(cats):
        col = cols[name]
        effects = _CATEGORY_EFFECTS * (1 - 2 * flip if k == 0 else 1.0)
        for effect, category in zip(effects, CATEGORIES, strict=True):  # None or unseen: no effect
            logit += effect * (col == category)
    return logit


def _sample(
    rng: np.random.Generator,
    cols: dict[str, NDArray],
    stats: dict[str, tuple[float, float]],
    *,
    flip: float = 0.0,
    offset: float = 0.0,
    group_offset: float = 0.0,
) -> Sample:
    n = next(iter(cols.values())).size
    sensitive = np.where(rng.random(n) < 0.7, "A", "B").astype(object)
    segment = np.asarray(("north", "south", "east", "west"), dtype=object)[
        rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    ]
    score = _sigmoid(_logit(cols, stats))
    true_logit = _logit(cols, stats, flip) + offset - group_offset * (sensitive == "B")
    p_true = _sigmoid(true_logit)
    y = (rng.random(n) < p_true).astype(np.int64)
    return Sample(cols, y, score, (score >= 0.5).astype(np.int64), p_true, sensitive, segment)


def make_scenario(
    kind: str = "stationary",
    *,
    n_reference: int = 20_000,
    n_current: int = 10_000,
    n_numeric: int = 4,
    n_categorical: int = 2,
    magnitude: float | None = None,
    feature: str | None = None,
    seed: int = 0,
) -> Scenario:
    """Generate a reference and a current sample with one known change (see ``KINDS``).

    ``magnitude`` defaults to ``MAGNITUDES[kind]``; ``feature`` defaults to ``num_0`` for numeric
    changes and ``cat_0`` for categorical ones. Same arguments, same data.

    Example:
        >>> sc = make_scenario("calibration_shift", n_reference=2_000, n_current=2_000, seed=3)
        >>> bool(sc.current.y.mean() > sc.current.score.mean() + 0.1)
        True
    """
    if kind not in KINDS:
        raise ValueError(f"unknown scenario {kind!r}; choose from {KINDS}")
    size = float(MAGNITUDES.get(kind, 0.0) if magnitude is None else magnitude)
    target = feature or ("cat_0" if kind in _CATEGORICAL_KINDS else "num_0")
    if (kind in _NUMERIC_KINDS and n_numeric < 1) or (kind in _CATEGORICAL_KINDS and n_categorical < 1):
        raise ValueError(f"scenario {kind!r} needs a feature of the right type")
    rng = np.random.default_rng(seed)
    ref_cols = _features(rng, n_reference, n_numeric, n_categorical)
    # The model standardises with reference constants, fixed once like a trained model's scaler.
    numeric = tuple(n for n in ref_cols if n.startswith("num_"))
    stats = {n: (float(np.nanmean(ref_cols[n])), float(np.nanstd(ref_cols[n])) or 1.0) for n in numeric}
    reference = _sample(rng, ref_cols, stats)

    shares = None
    if kind == "category_reweighting":
        moved = _CATEGORY_SHARES.copy()
        moved[0] -= size
        moved[1:] += size * _CATEGORY_SHARES[1:] / _CATEGORY_SHARES[1:].sum()
        shares = {int(target.split("_")[1]): moved}
    independent = size if kind == "correlation_change" else 0.0
    cols = _features(rng, n_current, n_numeric, n_categorical, independent, shares)
    injected: set[str] = set()
    col = cols[target]
    if kind == "mean_shift":
        col += size * stats[target][1]
        injected.add(target)
    elif kind == "variance_change":
        mean = stats[target][0]
        cols[target] = mean + size * (col - mean)
        injected.add(target)
    elif kind == "category_reweighting":
        injected.add(target)
    elif kind == "new_category":
        col[(rng.random(n_current) < size) & ~np.equal(col, None)] = "new"
        injected.update({target, f"unseen:{target}"})
    elif kind == "missing_burst":
        extra = rng.random(n_current) < (size - _MISSING["numeric"]) / (1 - _MISSING["numeric"])
        col[extra] = np.nan if col.dtype.kind == "f" else None
        injected.add(f"missing:{target}")
    elif kind != "stationary":
        injected.add(kind.split("_")[0])  # "concept", "calibration", "fairness", "correlation"
    current = _sample(
        rng,
        cols,
        stats,
        flip=size if kind == "concept_shift" else 0.0,
        offset=size if kind == "calibration_shift" else 0.0,
        group_offset=size if kind == "fairness_gap" else 0.0,
    )
    categorical = tuple(n for n in ref_cols if n.startswith("cat_"))
    return Scenario(kind, reference, current, numeric, categorical, frozenset(injected), size)
