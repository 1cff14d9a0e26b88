"""Detection benchmark: false alarms on stationary data and power on injected shifts.

Runs the real decision rule the way the analysis engine does, on BINNED data: numeric features are
counted on 20 reference-quantile bins (plus two overflow bins), categorical ones on the reference
categories plus one "unseen" bin; thresholds are learned once per (reference, window size) with
``learn_thresholds_binned`` and rescaled to each window's non-null count; a feature drifted when
its effect size passes its threshold and its p-value survives Benjamini-Hochberg across the
window's features.

Targets: false-alarm rate on stationary (feature x window) checks <= 1 %; power >= 99 % on a mean
shift of +0.5 sd, a std x1.5 and a category reweighting (most common category loses 10 points).
Shifted features rotate over the four numeric shapes (normal, log-normal, bounded, integer count)
and over the categorical features.

    .venv/bin/python bench/detection.py           # 200 windows per scenario, about a minute
    .venv/bin/python bench/detection.py --quick   # 40 windows per scenario

Imports no Django.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from drift.scenarios import CATEGORIES, Sample, make_scenario
from drift.stats import binning, estimation, performance, thresholds, univariate

N_BINS = 20
ALPHA = 0.05
N_NUMERIC, N_CATEGORICAL = 8, 4
REFERENCE_ROWS, WINDOW_ROWS = 20_000, 10_000


@dataclass
class Tally:
    """Flags out of checks."""

    flagged: int = 0
    checks: int = 0

    @property
    def rate(self) -> float:
        return self.flagged / self.checks if self.checks else float("nan")


class FeatureModel:
    """What the engine keeps per feature for one reference: bins, counts, cached thresholds."""

    def __init__(self, values: np.ndarray, numeric: bool) -> None:
        self.numeric = numeric
        self.edges = binning.quantile_edges(values, N_BINS) if numeric else None
        self.std = float(np.nanstd(values)) if numeric else None
        self.range = (float(np.nanmin(values)), float(np.nanmax(values))) if numeric else (0.0, 0.0)
        self.counts = self.count(values)
        self._learned: dict[int, thresholds.LearnedThreshold] = {}

    def count(self, values: np.ndarray) -> np.ndarray:
        if self.numeric:
            return binning.bin_counts(values, self.edges)
        return binning.category_counts(values, CATEGORIES)

    def threshold(self, window: int, n_values: int, method: str) -> thresholds.LearnedThreshold:
        # Learned once per nominal window size, then rescaled to the window's non-null count.
        if window not in self._learned:
            learned = thresholds.learn_thresholds_binned(
                self.counts, window, methods=(method,), edges=self.edges, reference_std=self.std
            )
            self._learned[window] = learned[method]
        return thresholds.rescale_threshold(self._learned[window], n_values)

    def test(self, values: np.ndarray) -> univariate.DriftTest:
        counts = self.count(values)
        if not self.numeric:
            return univariate.categorical_drift(self.counts, counts)
        seen = binning.finite(values)
        low = min(self.range[0], float(seen.min())) if seen.size else None
        high = max(self.range[1], float(seen.max())) if seen.size else None
        return univariate.numeric_drift_binned(
            self.counts, counts, self.edges, low=low, high=high, reference_std=self.std
        )


def decide_window(models: dict[str, FeatureModel], current: Sample, rows: slice) -> dict:
    tests, ths = {}, {}
    for name, model in models.items():
        tests[name] = model.test(current.features[name][rows])
        ths[name] = model.threshold(rows.stop - rows.start, tests[name].n_current, tests[name].effect_method)
    return thresholds.decide(tests, ths, alpha=ALPHA)


def run(kind: str, n_refs: int, per_ref: int, window: int, seed: int) -> tuple[Tally, Tally]:
    """(stationary checks, injected checks) over n_refs references x per_ref windows."""
    stationary, injected = Tally(), Tally()
    for r in range(n_refs):
        numeric_change = kind in ("mean_shift", "variance_change")
        target = (
            None if kind == "stationary" else f"num_{r % 4}" if numeric_change else f"cat_{r % N_CATEGORICAL}"
        )
        sc = make_scenario(
            kind,
            n_reference=REFERENCE_ROWS,
            n_current=window * per_ref,
            n_numeric=N_NUMERIC,
            n_categorical=N_CATEGORICAL,
            feature=target,
            seed=seed + r,
        )
        names = (*sc.numeric, *sc.categorical)
        models = {n: FeatureModel(sc.reference.features[n], n in sc.numeric) for n in names}
        for w in range(per_ref):
            for name, decision in decide_window(
                models, sc.current, slice(w * window, (w + 1) * window)
            ).items():
                tally = injected if name in sc.injected else stationary
                tally.flagged += int(decision.drifted)
                tally.checks += 1
    return stationary, injected


def line(label: str, tally: Tally, target: str, met: bool) -> str:
    counts = f"{tally.flagged}/{tally.checks}"
    return f"{label:48s} {tally.rate:8.2%} {counts:>12s}  {target:8s} {'MET' if met else 'MISSED'}"


def threshold_timing() -> float:
    """Milliseconds to learn one feature's binned threshold (1,000 simulated chunks)."""
    ref = np.random.default_rng(0).normal(size=50_000)
    edges = binning.quantile_edges(ref, N_BINS)
    counts = binning.bin_counts(ref, edges)
    started = time.perf_counter()
    for _ in range(20):
        thresholds.learn_thresholds_binned(counts, WINDOW_ROWS, edges=edges)
    return (time.perf_counter() - started) / 20 * 1000


def estimation_error(n_windows: int, window: int, seed: int) -> float:
    """Mean absolute error of the label-free accuracy estimate against realised accuracy.

    Covariate shift from the scenario generator: one feature's mean moves by a random amount
    (up to 1 sd) while P(y|x) stays fixed. The model's raw score is a monotone distortion of the
    true probability (overconfident), so the estimate depends on the isotonic calibration fitted
    on the reference, as in production.
    """
    rng = np.random.default_rng(seed)
    errors = []
    for i in range(n_windows):
        sc = make_scenario(
            "mean_shift", n_reference=REFERENCE_ROWS, n_current=window,
            magnitude=float(rng.uniform(-1.0, 1.0)), feature=f"num_{i % 4}", seed=seed * 1_000 + i,
        )
        raw_ref, raw_cur = sc.reference.score**1.5, sc.current.score**1.5
        calibrator = estimation.fit_calibrator(raw_ref, sc.reference.y)
        estimate = estimation.estimate_performance(calibrator, raw_cur, n_simulations=0)
        realised = performance.accuracy(sc.current.y, (raw_cur >= 0.5).astype(int))
        errors.append(abs(estimate.metrics["accuracy"].value - realised))
    return float(np.mean(errors))


def main() -> int:
    parser = argparse.ArgumentParser(description="False alarms and power of the drift decision rule.")
    parser.add_argument("--quick", action="store_true", help="fewer windows (CI)")
    args = parser.parse_args()
    n_refs, per_ref = (8, 5) if args.quick else (20, 10)
    big_refs = 4 if args.quick else 20
    started = time.perf_counter()
    print(
        f"Binned drift decisions ({N_BINS} quantile bins, learned threshold + BH at {ALPHA:.0%}): reference "
        f"{REFERENCE_ROWS:,} rows,\nwindows of {WINDOW_ROWS:,} rows, {N_NUMERIC} numeric + {N_CATEGORICAL} "
        f"categorical features, {n_refs * per_ref} windows per scenario.\n"
    )
    false_alarms, powers = Tally(), []
    for kind, label in (
        ("stationary", ""),
        ("mean_shift", "mean shift +0.5 sd"),
        ("variance_change", "std x1.5"),
        ("category_reweighting", "category reweighting (-10 points)"),
    ):
        stationary, injected = run(kind, n_refs, per_ref, WINDOW_ROWS, seed=1_000 * len(powers) + 1)
        false_alarms.flagged += stationary.flagged
        false_alarms.checks += stationary.checks
        if label:
            powers.append((label, injected))
    # Windows 5x the reference: thresholds learned on 10k chunks and rescaled. Windows of one
    # reference share its sampling error, so many references with few windows each.
    big, _ = run("stationary", big_refs, 2, 100_000, seed=77)

    ok = [false_alarms.rate <= 0.01, big.rate <= 0.01, *(t.rate >= 0.99 for _, t in powers)]
    print(f"{'check':48s} {'rate':>8s} {'flags/checks':>12s}  {'target':8s}")
    print(line("false alarms, stationary feature x window", false_alarms, "<= 1 %", ok[0]))
    print(line("false alarms, 100k-row windows vs 20k reference", big, "<= 1 %", ok[1]))
    for (label, tally), met in zip(powers, ok[2:], strict=True):
        print(line(f"power, {label}", tally, ">= 99 %", met))
    print(f"\nthreshold learning: {threshold_timing():.1f} ms per feature (binned, 1,000 chunks)")

    n_windows = 20 if args.quick else 60
    mae = estimation_error(n_windows, WINDOW_ROWS, seed=5)
    ok.append(mae <= 0.005)
    print(
        f"label-free accuracy estimate under covariate shift, {n_windows} windows of {WINDOW_ROWS:,} rows: "
        f"MAE {mae:.4f} vs realised (target <= 0.005) {'met' if ok[-1] else 'MISSED'}"
    )

    print(
        f"\n{'all targets met' if all(ok) else 'SOME TARGETS MISSED'} ({time.perf_counter() - started:.0f} s)"
    )
    return 0 if all(ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
