"""Data drift: one test per feature on merged sketches, learned thresholds, Benjamini-Hochberg. Pure.

Per feature, `drift.stats.univariate.choose_method` picks the test: an exact KS on the reservoirs when
both reservoirs hold every row (small windows and references), else a binned KS on the full counts;
chi-square on category counts, with categories too sparse for it pooled (Fisher's exact test for a
2 x 2 table that stays sparse). A feature with fewer than `MIN_TEST_ROWS` non-null values on either
side is not tested, and the share of drifted features counts testable ones only. A feature drifted
when its effect size passes the threshold learned from the reference for this window size *and* its
p-value survives Benjamini-Hochberg across the window's features (`drift.stats.thresholds.decide`).
Multivariate drift (PCA reconstruction error and a domain classifier) runs on the reservoirs.

`feature_tests` needs one feature's sketches only, so it can fan out by feature group;
`decide_features` needs all of them and runs once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drift.engine.bins import category_test, identifier_features, is_identifier
from drift.engine.context import OK, FeatureInfo, WindowInput, is_complete, pretty, section
from drift.engine.segments import segment_effects
from drift.profiles import FeatureBins
from drift.stats import multivariate, thresholds, univariate
from drift.stats.thresholds import LearnedThreshold
from drift.stats.univariate import DriftTest

# Rows per side the domain classifier trains on, and its cross-validation folds: the classifier was
# 35-45 % of a whole analysis; 2,000 + 2,000 rows in 3 folds keep its AUC within noise of 5 folds.
CLASSIFIER_ROWS = 2_000
CLASSIFIER_FOLDS = 3
# Non-null values a feature needs on each side before it is tested. Below, a test has little power
# for a real change yet reacts to the hour-of-day mix of a short window (a 36-row window once flagged
# 3 of 13 features), and the learned thresholds sit at their upper bound: the feature is reported as
# not testable instead.
MIN_TEST_ROWS = 100


@dataclass(frozen=True)
class FeatureTest:
    info: FeatureInfo
    test: DriftTest
    mode: str  # samples | binned
    learn: Callable[[int], LearnedThreshold] | None
    summary: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""


def _moments(feat: Mapping[str, Any]) -> tuple[float | None, float | None]:
    n = feat.get("count", 0)
    if not n:
        return None, None
    mean = feat["sum"] / n
    return mean, math.sqrt(max(feat["sumsq"] / n - mean * mean, 0.0))


def _untestable(method: str, effect: str, n_ref: int, n_cur: int, reason: str) -> DriftTest:
    return DriftTest(method, 0.0, 1.0, effect, 0.0, n_ref, n_cur, testable=False, reason=reason)


def _too_few(name: str, n_ref: int, n_cur: int) -> str:
    """Why a feature is not tested for lack of values; "" when both sides have enough."""
    if 0 < n_cur < MIN_TEST_ROWS:
        return (
            f"{pretty(name)}: not testable, too few rows ({n_cur:,} non-null values in this window; "
            f"{MIN_TEST_ROWS:,} are needed)."
        )
    if 0 < n_ref < MIN_TEST_ROWS:
        return (
            f"{pretty(name)}: not testable, too few rows ({n_ref:,} non-null values in the reference; "
            f"{MIN_TEST_ROWS:,} are needed)."
        )
    return ""


def _category_significance(test: DriftTest, ref: np.ndarray, cur: np.ndarray) -> DriftTest:
    """The test's p-value from a table adequate for it (the effect size keeps every category)."""
    method, statistic, p_value, note = category_test(ref, cur)
    if not note:
        return test
    return dataclasses.replace(
        test, method=method, statistic=statistic, p_value=p_value, reason=test.reason or note
    )


def _numeric(inp: WindowInput, info: FeatureInfo, bins: FeatureBins) -> FeatureTest:
    ref_f = inp.reference["features"].get(info.name, {})
    cur_f = inp.current["features"].get(info.name, {})
    n_ref, n_cur = int(ref_f.get("count", 0)), int(cur_f.get("count", 0))
    ref_mean, ref_std = _moments(ref_f)
    cur_mean, cur_std = _moments(cur_f)
    summary = {
        "reference_mean": ref_mean,
        "current_mean": cur_mean,
        "reference_std": ref_std,
        "current_std": cur_std,
        "reference_min": ref_f.get("min"),
        "reference_max": ref_f.get("max"),
        "current_min": cur_f.get("min"),
        "current_max": cur_f.get("max"),
        "mean_change": (cur_mean - ref_mean) / abs(ref_mean) if ref_mean and cur_mean is not None else None,
    }
    if not bins.edges or n_ref == 0:
        why = f"{pretty(info.name)} has no values in the reference, so there is nothing to compare against."
        return FeatureTest(
            info, _untestable("ks_binned", "wasserstein", 0, n_cur, why), "binned", None, summary, why
        )
    few = _too_few(info.name, n_ref, n_cur)
    if few:
        return FeatureTest(
            info, _untestable("ks", "wasserstein", n_ref, n_cur, few), "samples", None, summary, few
        )
    explanation = ""
    if n_cur == 0:
        explanation = f"{pretty(info.name)} was null in all {cur_f.get('nulls', 0):,} rows of this window."
    elif ref_f.get("min") == ref_f.get("max"):
        explanation = (
            f"{pretty(info.name)} was constant ({ref_f['min']:g}) in the reference; the change is "
            "measured as the share of values that differ from it."
        )
    choice = univariate.choose_method("numeric", n_ref, n_cur)
    if choice.use_samples and is_complete(inp.reference) and is_complete(inp.current):
        ref_x = inp.column(inp.reference, info.name, numeric=True)
        cur_x = inp.column(inp.current, info.name, numeric=True)
        test = univariate.numeric_drift_samples(ref_x, cur_x)
        effect = test.effect_method

        def learn(w: int) -> LearnedThreshold:
            return thresholds.learn_thresholds_samples(ref_x, w, methods=(effect,))[effect]

        return FeatureTest(info, test, "samples", learn, summary, explanation)
    ref_counts = np.asarray(ref_f["bins"], dtype=np.int64)
    cur_counts = np.asarray(cur_f.get("bins") or [0] * len(ref_counts), dtype=np.int64)
    lows = [v for v in (ref_f.get("min"), cur_f.get("min")) if v is not None]
    highs = [v for v in (ref_f.get("max"), cur_f.get("max")) if v is not None]
    test = univariate.numeric_drift_binned(
        ref_counts, cur_counts, bins.edges, low=min(lows), high=max(highs), reference_std=ref_std
    )
    effect = test.effect_method

    def learn_binned(w: int) -> LearnedThreshold:
        learned = thresholds.learn_thresholds_binned(
            ref_counts, w, methods=(effect,), edges=bins.edges, reference_std=ref_std
        )
        return learned[effect]

    return FeatureTest(info, test, "binned", learn_binned, summary, explanation)


def _category_summary(bins: FeatureBins, ref: np.ndarray, cur: np.ndarray, cur_f: Mapping[str, Any]) -> dict:
    names = [*bins.categories, "(other known values)", "(new values)"]
    rs, cs = ref / max(ref.sum(), 1), cur / max(cur.sum(), 1)
    order = np.argsort(-np.abs(cs - rs))[:5]
    shares = [{"value": names[i], "reference": float(rs[i]), "current": float(cs[i])} for i in order]
    unseen = cur_f.get("unseen_values", {})
    total = max(int(cur.sum()), 1)
    return {
        "shares": shares,
        "new_values": {k: v / total for k, v in unseen.items()},
        "new_share": float(cur[-1] / total) if len(cur) else 0.0,
    }


def _categorical(inp: WindowInput, info: FeatureInfo, bins: FeatureBins) -> FeatureTest:
    ref_f = inp.reference["features"].get(info.name, {})
    cur_f = inp.current["features"].get(info.name, {})
    if info.kind == "boolean":
        ref = np.array([ref_f.get("count", 0) - ref_f.get("true", 0), ref_f.get("true", 0)], dtype=float)
        cur = np.array([cur_f.get("count", 0) - cur_f.get("true", 0), cur_f.get("true", 0)], dtype=float)
        summary: dict[str, Any] = {
            "reference_true_share": ref[1] / ref.sum() if ref.sum() else None,
            "current_true_share": cur[1] / cur.sum() if cur.sum() else None,
        }
    else:
        if not bins.known:
            why = (
                f"{pretty(info.name)} has no values in the reference, so there is nothing to compare against."
            )
            test = _untestable("chi_square", "jensenshannon", 0, int(cur_f.get("count", 0)), why)
            return FeatureTest(info, test, "binned", None, {}, why)
        n_ref = int(ref_f.get("count", 0))
        if is_identifier(bins, n_ref):
            why = (
                f"{pretty(info.name)} looks like an identifier ({len(bins.known):,} distinct values in "
                f"{n_ref:,} reference rows): new values are expected, so its values are not compared."
            )
            test = _untestable("chi_square", "jensenshannon", n_ref, int(cur_f.get("count", 0)), why)
            return FeatureTest(info, test, "binned", None, {}, why)
        ref = np.asarray(ref_f["bins"], dtype=float)
        cur = np.asarray(cur_f.get("bins") or [0] * len(ref), dtype=float)
        summary = _category_summary(bins, ref, cur, cur_f)
    few = _too_few(info.name, int(ref.sum()), int(cur.sum()))
    if few:
        test = _untestable("chi_square", "jensenshannon", int(ref.sum()), int(cur.sum()), few)
        return FeatureTest(info, test, "binned", None, summary, few)
    test = _category_significance(univariate.categorical_drift(ref, cur), ref, cur)
    explanation = ""
    if not cur.sum():
        explanation = f"{pretty(info.name)} was null in all {cur_f.get('nulls', 0):,} rows of this window."
    elif ((ref + cur) > 0).sum() < 2:
        value = bins.categories[0] if bins.categories else ("true" if ref[-1] else "false")
        explanation = (
            f"{pretty(info.name)} has a single value ('{value}') in both the reference and this "
            "window: nothing can differ."
        )
    elif (ref > 0).sum() == 1:
        explanation = f"{pretty(info.name)} had a single value in the reference; any other value is a change."
    ref_counts = ref.astype(np.int64)

    def learn(w: int) -> LearnedThreshold:
        return thresholds.learn_thresholds_binned(ref_counts, w, methods=("jensenshannon",))["jensenshannon"]

    return FeatureTest(info, test, "binned", learn, summary, explanation)


def feature_tests(inp: WindowInput, names: Iterable[str] | None = None) -> list[FeatureTest]:
    """The test of each feature (or of `names` only: one feature group of a fanned-out analysis)."""
    wanted = set(names) if names is not None else None
    bins = {b.name: b for b in inp.spec.features}
    out = []
    for info in inp.features:
        if (wanted is not None and info.name not in wanted) or info.name not in bins:
            continue
        if info.kind == "numeric":
            out.append(_numeric(inp, info, bins[info.name]))
        else:
            out.append(_categorical(inp, info, bins[info.name]))
    return out


def decide_features(inp: WindowInput, tests: list[FeatureTest]) -> list[dict[str, Any]]:
    """Thresholds (cached by the service) and the BH decision across all of the window's features."""
    learned: dict[str, LearnedThreshold] = {}
    for t in tests:
        if t.test.testable and t.learn is not None:
            learned[t.info.name] = inp.thresholds.get(
                t.info.name, t.mode, t.test.effect_method, t.test.n_current, t.learn
            )
    decisions = thresholds.decide({t.info.name: t.test for t in tests}, learned)
    out = []
    for t in tests:
        d = decisions[t.info.name]
        out.append(
            {
                "feature": t.info.name,
                "type": t.info.kind,
                "role": t.info.role,
                "mode": t.mode,
                "method": t.test.method,
                "statistic": t.test.statistic,
                "p_value": t.test.p_value,
                "effect_method": t.test.effect_method,
                "effect_size": t.test.effect_size,
                "threshold": d.threshold if t.test.testable else None,
                "drifted": d.drifted,
                "significant": d.significant,
                "testable": t.test.testable,
                "reason": d.reason,
                "explanation": t.explanation or t.test.reason,
                "n_reference": t.test.n_reference,
                "n_current": t.test.n_current,
                "nulls": int(inp.current["features"].get(t.info.name, {}).get("nulls", 0)),
                "summary": t.summary,
            }
        )
    return out


def _segments(inp: WindowInput, entry: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for seg in inp.by_role("segment"):
        if seg.name == entry["feature"]:
            continue
        numeric = entry["type"] == "numeric"
        result = segment_effects(
            entry["type"],
            inp.column(inp.reference, entry["feature"], numeric=numeric),
            inp.column(inp.reference, seg.name),
            inp.column(inp.current, entry["feature"], numeric=numeric),
            inp.column(inp.current, seg.name),
            threshold=entry["threshold"] or 0.0,
        )
        if result["segments"] or result["mix"]["moved"]:
            out.append({"by": seg.name, **result})
    return out


def _matrix(inp: WindowInput, sketch: Mapping[str, Any], names: list[str], numeric: bool) -> np.ndarray:
    cols = [inp.column(sketch, n, numeric=numeric) for n in names]
    return np.column_stack(cols) if cols else np.empty((0, 0))


def multivariate_drift(inp: WindowInput) -> dict[str, Any]:
    bins = {b.name: b for b in inp.spec.features}
    numeric = [f.name for f in inp.features if f.kind == "numeric" and f.name in bins and bins[f.name].edges]
    # Identifiers say who, not what: a window's new ids would teach the classifier nothing but cost
    # a one-hot block each.
    identifiers = identifier_features(inp.spec, inp.reference)
    categorical = [
        f.name for f in inp.features if f.kind != "numeric" and f.name in bins and f.name not in identifiers
    ]
    if not numeric:
        return {"status": "not_applicable", "drifted": False, "reason": "no numeric feature to combine"}
    ref, cur = _matrix(inp, inp.reference, numeric, True), _matrix(inp, inp.current, numeric, True)
    out: dict[str, Any] = {"status": OK, "features": numeric}
    if len(numeric) >= 2:
        # The null depends on the reference sample and the window's sample size only: learned once per
        # reference and size bucket (a hundred refits), then rescaled, like the feature thresholds.
        def learn_pca(w: int) -> multivariate.PCAThreshold:
            return multivariate.learn_pca_threshold(ref, w)

        out["pca"] = multivariate.pca_drift(
            ref, cur, threshold_for=lambda n: inp.thresholds.pca_threshold(n, learn_pca), seed=inp.seed
        )
    else:
        out["pca"] = {"testable": False, "drifted": False, "reason": "needs two numeric features"}
    rng = np.random.default_rng(inp.seed)
    r_idx = rng.permutation(len(ref))[:CLASSIFIER_ROWS]
    c_idx = rng.permutation(len(cur))[:CLASSIFIER_ROWS]
    ref_cat = _matrix(inp, inp.reference, categorical, False)[r_idx] if categorical else None
    cur_cat = _matrix(inp, inp.current, categorical, False)[c_idx] if categorical else None
    out["domain_classifier"] = multivariate.domain_classifier(
        ref[r_idx],
        cur[c_idx],
        reference_categorical=ref_cat,
        current_categorical=cur_cat,
        n_folds=CLASSIFIER_FOLDS,
        seed=inp.seed,
    )
    out["drifted"] = bool(getattr(out["pca"], "drifted", False) or out["domain_classifier"].drifted)
    return out


@section
def data_drift(inp: WindowInput) -> dict[str, Any]:
    entries = decide_features(inp, feature_tests(inp))
    for entry in entries:
        if entry["drifted"]:
            entry["segments"] = _segments(inp, entry)
    testable = [e for e in entries if e["testable"]]
    drifted = [e["feature"] for e in entries if e["drifted"]]
    out: dict[str, Any] = {
        "status": OK,
        "features": entries,
        "drifted_features": drifted,
        # Over the features that could be tested: an untestable feature can neither drift nor not.
        "share_drifted": len(drifted) / len(testable) if testable else None,
        "testable_features": len(testable),
        "multivariate": multivariate_drift(inp),
        "rows": int(inp.current.get("n", 0)),
        "reference_rows": int(inp.reference.get("n", 0)),
    }
    if inp.stale_rows:
        out["stale_rows"] = inp.stale_rows
        out["note"] = (
            f"{inp.stale_rows:,} rows were profiled with bins of an earlier reference and are left "
            "out until their profiles are rebuilt; re-run the window afterwards."
        )
    return out
