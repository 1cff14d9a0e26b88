"""Group fairness of binary decisions, per sensitive attribute and their intersections.

For each attribute (``sex``) and each intersection of attributes (``sex & region``) the rows split
into groups. Per group: selection rate P(pred = 1), and with labels the true-positive rate
P(pred = 1 | y = 1) and false-positive rate P(pred = 1 | y = 0), and with probabilities the
group's expected calibration error. Across groups:

* demographic-parity difference: max - min selection rate; ratio (disparate impact): min / max
  (fairlearn's definitions). With a reference group r (``reference_groups={"sex": "M"}``)
  instead: difference = max over groups g of |rate_g - rate_r|, ratio = min over g of
  rate_g / rate_r, the EEOC "four-fifths" comparison against the favoured group.
* equal-opportunity difference: the same difference on TPR; equalised-odds difference: the
  larger of the TPR and FPR differences (fairlearn's ``equalized_odds_difference``).
* calibration gap: max - min ECE across groups (no interval).

Groups with fewer than ``min_group_size`` rows are reported as too small to judge and left out
of every gap; a group's TPR (FPR) also needs ``min_outcomes`` positive (negative) labels. Gaps
carry seeded percentile bootstrap intervals. The four-fifths check (ratio >= 0.8) runs only when
asked (``four_fifths=True``): it is a legal rule of thumb for hiring, not a universal test.

Example:
    >>> import numpy as np
    >>> pred = np.array([1, 0] * 50 + [1, 0, 0, 0] * 25)
    >>> sex = np.array(["F"] * 100 + ["M"] * 100)
    >>> (report,) = fairness_report(pred, {"sex": sex}, n_resamples=0, four_fifths=True)
    >>> report.demographic_parity_difference.value, report.demographic_parity_ratio.value
    (0.25, 0.5)
    >>> report.four_fifths_passed
    False
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drift.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    ConfidenceInterval,
    bootstrap_distribution,
    percentile_interval,
)
from drift.stats.calibration import calibration_error

DEFAULT_MIN_GROUP_SIZE = 30
#: Positives (negatives) a group needs before its TPR (FPR) is compared: 10 gives a rate
#: resolution of 0.1, about the coarsest that still means anything.
DEFAULT_MIN_OUTCOMES = 10
FOUR_FIFTHS = 0.8
SEPARATOR = " & "


@dataclass(frozen=True)
class GroupStats:
    """One group's rates; all None (and ``reason`` set) when the group is too small to judge.

    ``tpr``/``fpr`` are None without labels or with too few positives/negatives in the group.
    """

    group: str
    n: int
    selection_rate: float | None
    tpr: float | None = None
    fpr: float | None = None
    ece: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Gap:
    value: float | None
    ci: ConfidenceInterval | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AttributeFairness:
    attribute: str
    groups: tuple[GroupStats, ...]
    reference_group: str | None
    demographic_parity_difference: Gap
    demographic_parity_ratio: Gap
    equal_opportunity_difference: Gap
    equalized_odds_difference: Gap
    calibration_gap: Gap
    four_fifths_passed: bool | None = None


def sensitive_combinations(
    sensitive: Mapping[str, ArrayLike], *, max_order: int = 2
) -> dict[str, NDArray[Any]]:
    """Each attribute, then each intersection of up to ``max_order`` attributes, as row labels.

    Example:
        >>> combos = sensitive_combinations({"sex": ["F", "M"], "age": ["young", "old"]})
        >>> combos["sex & age"].tolist()
        ['F & young', 'M & old']
    """
    return {name: names[codes] for name, (names, codes) in _groupings(sensitive, max_order).items()}


def _groupings(
    sensitive: Mapping[str, ArrayLike], max_order: int
) -> dict[str, tuple[NDArray[Any], NDArray[np.intp]]]:
    """(group names, per-row group code) for each attribute and intersection.

    Intersections combine integer codes, not strings: sorting a million joined strings per
    intersection would dominate the whole report.
    """
    base: dict[str, tuple[NDArray[Any], NDArray[np.intp]]] = {}
    for name, values in sensitive.items():
        names, codes = np.unique(np.asarray(values).astype(str), return_inverse=True)
        base[name] = (names, codes.astype(np.intp))
    out = dict(base)
    for order in range(2, max_order + 1):
        for combo in itertools.combinations(base, order):
            key = np.zeros(len(base[combo[0]][1]), dtype=np.int64)
            for name in combo:
                key = key * len(base[name][0]) + base[name][1]
            used, codes = np.unique(key, return_inverse=True)
            labels, rest = [], used
            for name in reversed(combo):
                size = len(base[name][0])
                labels.append(base[name][0][rest % size])
                rest = rest // size
            names = labels[-1]
            for part in reversed(labels[:-1]):
                names = np.char.add(np.char.add(names, SEPARATOR), part)
            out[SEPARATOR.join(combo)] = (names, codes.astype(np.intp))
    return out


def _group_rates(codes: NDArray[Any], cell: NDArray[Any], k: int) -> NDArray[np.float64]:
    """Selection rate, TPR and FPR per group (shape ``(..., 3, k)``), reducing the last axis.

    ``cell`` = 2 * prediction + label, so one bincount over (row, group, cell) yields the whole
    per-group confusion matrix; code k collects the ignored rows.
    """
    lead = codes.shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = ((np.arange(rows).reshape(*lead, 1) * (k + 1) + codes) * 4 + cell).ravel()
    counts = np.bincount(flat, minlength=rows * (k + 1) * 4).reshape(*lead, k + 1, 4)[..., :k, :]
    tn, fn, fp, tp = (counts[..., i].astype(float) for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([(tp + fp) / (tp + fp + tn + fn), tp / (tp + fn), fp / (fp + tn)], axis=-2)


def _difference_and_ratio(rates: NDArray[Any], ref: int | None) -> tuple[NDArray[Any], NDArray[Any]]:
    """Spread of group rates (last axis), ignoring NaN groups; NaN with fewer than two groups.

    The reductions carry an ``initial`` value: a window too small for any judged group has an
    empty last axis, and a bare ``max`` of nothing raises instead of giving NaN.
    """
    ok = np.isfinite(rates)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ref is None:
            hi = np.where(ok, rates, -np.inf).max(axis=-1, initial=-np.inf)
            lo = np.where(ok, rates, np.inf).min(axis=-1, initial=np.inf)
            enough = ok.sum(axis=-1) >= 2
            return np.where(enough, hi - lo, np.nan), np.where(enough & (hi > 0), lo / hi, np.nan)
        base = rates[..., ref : ref + 1]
        others = np.delete(rates, ref, axis=-1)
        ok = np.isfinite(others) & np.isfinite(base)
        enough = ok.sum(axis=-1) >= 1
        diff = np.where(ok, np.abs(others - base), -np.inf).max(axis=-1, initial=-np.inf)
        ratio = np.where(ok, others / base, np.inf).min(axis=-1, initial=np.inf)
        return np.where(enough, diff, np.nan), np.where(enough & (base[..., 0] > 0), ratio, np.nan)


def _gaps(
    codes: NDArray[Any],
    cell: NDArray[Any],
    *,
    k: int,
    ref: int | None,
    tpr_ok: NDArray[Any],
    fpr_ok: NDArray[Any],
) -> NDArray[np.float64]:
    """[DP difference, DP ratio, equal-opportunity difference, equalised-odds difference]."""
    rates = _group_rates(codes, cell, k)
    dp_diff, dp_ratio = _difference_and_ratio(rates[..., 0, :], ref)
    tpr = np.where(tpr_ok, rates[..., 1, :], np.nan)
    fpr = np.where(fpr_ok, rates[..., 2, :], np.nan)
    eo, _ = _difference_and_ratio(tpr, ref)
    fo, _ = _difference_and_ratio(fpr, ref)
    with np.errstate(invalid="ignore"):
        odds = np.where(np.isfinite(eo) & np.isfinite(fo), np.maximum(eo, fo), np.nan)
    return np.stack([dp_diff, dp_ratio, eo, odds], axis=-1)


def fairness_report(
    y_pred: ArrayLike,
    sensitive: Mapping[str, ArrayLike],
    y_true: ArrayLike | None = None,
    prob: ArrayLike | None = None,
    *,
    positive_label: object = 1,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_outcomes: int = DEFAULT_MIN_OUTCOMES,
    max_order: int = 2,
    reference_groups: Mapping[str, str] | None = None,
    four_fifths: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[AttributeFairness, ...]:
    """Fairness of ``y_pred`` for every attribute in ``sensitive`` and their intersections.

    ``y_true`` (labels) enables TPR/FPR gaps; ``prob`` with labels enables per-group ECE.
    ``reference_groups`` maps an attribute (or intersection name) to its reference group.

    Example:
        >>> pred = [1, 1, 0, 0]
        >>> (r,) = fairness_report(pred, {"g": ["a", "a", "b", "b"]}, min_group_size=2, n_resamples=0)
        >>> [(g.group, g.selection_rate) for g in r.groups]
        [('a', 1.0), ('b', 0.0)]
    """
    pred = np.asarray(y_pred) == positive_label
    label = np.asarray(y_true) == positive_label if y_true is not None else None
    p = np.asarray(prob, dtype=float) if prob is not None and label is not None else None
    settings = _Settings(min_group_size, min_outcomes, four_fifths, n_resamples, seed)
    refs = reference_groups or {}
    return tuple(
        _attribute_fairness(attribute, names, codes, pred, label, p, refs.get(attribute), settings)
        for attribute, (names, codes) in _groupings(sensitive, max_order).items()
    )


@dataclass(frozen=True)
class _Settings:
    min_group_size: int
    min_outcomes: int
    four_fifths: bool
    n_resamples: int
    seed: int


def _attribute_fairness(
    attribute: str,
    names: NDArray[Any],
    inverse: NDArray[np.intp],
    pred: NDArray[np.bool_],
    label: NDArray[np.bool_] | None,
    prob: NDArray[Any] | None,
    ref_name: str | None,
    settings: _Settings,
) -> AttributeFairness:
    sizes = np.bincount(inverse, minlength=len(names))
    judged = sizes >= settings.min_group_size
    # Rows of groups too small to judge go to an ignored code k, so they weigh on no rate.
    k = int(judged.sum())
    codes = np.where(judged, np.cumsum(judged) - 1, k)[inverse]
    judged_names = names[judged].tolist()
    ref = judged_names.index(ref_name) if ref_name in judged_names else None
    y = label if label is not None else np.zeros_like(pred)
    tpr_ok = np.bincount(codes, weights=y, minlength=k + 1)[:k] >= settings.min_outcomes
    fpr_ok = np.bincount(codes, weights=~y, minlength=k + 1)[:k] >= settings.min_outcomes
    cell = (2 * pred + y).astype(np.int8)
    kernel = partial(_gaps, k=k, ref=ref, tpr_ok=tpr_ok, fpr_ok=fpr_ok)
    point = kernel(codes, cell)

    why = None
    if k == 0:
        why = f"too small to judge: no group has at least {settings.min_group_size} rows"
    elif ref_name is not None and ref is None:
        why = f"reference group {ref_name!r} absent or too small"
    elif k < 2:
        why = "fewer than two groups large enough to judge"
    cis: list[ConfidenceInterval | None] = [None] * 4
    if settings.n_resamples and why is None:
        reps = bootstrap_distribution(
            kernel, codes, cell, n_resamples=settings.n_resamples, seed=settings.seed
        )
        cis = [percentile_interval(reps[:, i], point[i], n_rows=len(codes)) for i in range(4)]
    gaps = [_gap(point[i], cis[i], why) for i in range(4)]
    if label is None:
        gaps[2] = gaps[3] = Gap(None, reason="no labels")

    groups = _group_stats(names, sizes, judged, codes, cell, label, prob, tpr_ok, fpr_ok, settings)
    eces = [g.ece for g in groups if g.ece is not None]
    calib = Gap(max(eces) - min(eces)) if len(eces) >= 2 else Gap(None, reason="needs labels and scores")
    passed = gaps[1].value >= FOUR_FIFTHS if settings.four_fifths and gaps[1].value is not None else None
    return AttributeFairness(
        attribute=attribute,
        groups=groups,
        reference_group=ref_name if ref is not None else None,
        demographic_parity_difference=gaps[0],
        demographic_parity_ratio=gaps[1],
        equal_opportunity_difference=gaps[2],
        equalized_odds_difference=gaps[3],
        calibration_gap=calib,
        four_fifths_passed=passed,
    )


def _gap(value: float, ci: ConfidenceInterval | None, why: str | None) -> Gap:
    if why is not None:
        return Gap(None, reason=why)
    return Gap(float(value), ci) if np.isfinite(value) else Gap(None, reason="undefined for these groups")


def _group_stats(
    names: NDArray[Any],
    sizes: NDArray[Any],
    judged: NDArray[Any],
    codes: NDArray[Any],
    cell: NDArray[Any],
    label: NDArray[Any] | None,
    prob: NDArray[Any] | None,
    tpr_ok: NDArray[Any],
    fpr_ok: NDArray[Any],
    settings: _Settings,
) -> tuple[GroupStats, ...]:
    selection, tpr, fpr = _group_rates(codes, cell, int(judged.sum()))
    out, j = [], 0
    for name, size, ok in zip(names.tolist(), sizes.tolist(), judged.tolist(), strict=True):
        if not ok:
            why = f"too small to judge ({size} < {settings.min_group_size} rows)"
            out.append(GroupStats(name, size, None, reason=why))
            continue
        rows = codes == j
        ece = None
        if prob is not None and label is not None:
            ece = calibration_error(label[rows], prob[rows], positive_label=True).ece
        has_labels = label is not None
        out.append(
            GroupStats(
                name,
                size,
                float(selection[j]),
                float(tpr[j]) if has_labels and tpr_ok[j] else None,
                float(fpr[j]) if has_labels and fpr_ok[j] else None,
                ece,
            )
        )
        j += 1
    return tuple(out)
