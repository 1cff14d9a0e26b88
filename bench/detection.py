"""Detection benchmark: false alarms on stationary data and power on injected shifts.

Runs the real decision rule the way the analysis engine does, on BINNED data: numeric features are
counted on 20 reference-quantile bins (plus two overflow bins), categorical ones on the reference
categories plus one "unseen" bin; thresholds are learned once per (reference, window size) with
``learn_thresholds_binned``; a feature drifted when its effect size passes its threshold and its
p-value survives Benjamini-Hochberg across the window's features.

Targets: false-alarm rate on stationary (feature x window) checks <= 1 %; power >= 99 % on a mean
shift of +0.5 sd, a std x1.5 and a category reweighting (most common category loses 10 points).

    .venv/bin/python bench/detection.py           # ~200 windows per scenario
    .venv/bin/python bench/detection.py --quick   # ~40 windows per scenario, a few seconds

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

from drift.scenarios import CATEGORIES, Sample, make_scenario  # noqa: E402
from drift.stats import binning, thresholds, univariate  # noqa: E402

N_BINS = 20
ALPHA = 0.05
N_NUMERIC, N_CATEGORICAL = 8, 4


@dataclass
class Tally:
    """Flags out of checks."""

    flagged: int = 0
    checks: int = 0

    def add(self, flagged: int, checks: int) -> None:
        self.flagged += flagged
        self.checks += checks

    @property
    def rate(self) -> float:
        return self.flagged / self.checks if self.checks else float("nan")


class FeatureModel:
    """What the engine keeps per feature for a reference: bins, counts, thresholds per window size."""

    def __init__(self, name: str, values: np.ndarray, numeric: bool) -> None:
        self.name, self.numeric = name, numeric
        if numeric:
            self.edges = binning.quantile_edges(values, N_BINS)
            self.std = float(np.nanstd(values))
            self.low, self.high = float(np.nanmin(values)), float(np.nanmax(values))
        self.counts = self.count(values)
        self._thresholds: dict[int, thresholds.LearnedThreshold] = {}

    def count(self, values: np.ndarray) -> np.ndarray:
        if self.numeric:
            return binning.bin_counts(values, self.edges)
        return binning.category_counts(values, CATEGORIES)

    def threshold(self, window: int, n_values: int, method: str) -> thresholds.LearnedThreshold:
        # Learned once per nominal window size, then rescaled to the window's non-null count.
        if window not in self._thresholds:
            learned = thresholds.learn_thresholds_binned(
                self.counts, window, methods=(method,), edges=self.edges if self.numeric else None,
                reference_std=self.std if self.numeric else None,
            )
            self._thresholds[window] = learned[method] if method in learned else next(iter(learned.values()))
        return thresholds.rescale_threshold(self._thresholds[window], n_values)

    def test(self, values: np.ndarray) -> univariate.DriftTest:
        counts = self.count(values)
        if not self.numeric:
            return univariate.categorical_drift(self.counts, counts)
        finite = binning.finite(values)
        low = min(self.low, float(finite.min())) if finite.size else None
        high = max(self.high, float(finite.max())) if finite.size else None
        return univariate.numeric_drift_binned(
            self.counts, counts, self.edges, low=low, high=high, reference_std=self.std
        )


def run_windows(kind: str, n_refs: int, windows_per_ref: int, window: int, n_reference: int, seed: int) -> dict:
    """Decisions for ``n_refs`` references x ``windows_per_ref`` windows of one scenario kind."""
    stationary, power = Tally(), Tally()
    for r in range(n_refs):
        target = f"num_{r % 4}" if kind in ("mean_shift", "variance_change") else f"cat_{r % N_CATEGORICAL}"
        sc = make_scenario(
            kind, n_reference=n_reference, n_current=window * windows_per_ref, n_numeric=N_NUMERIC,
            n_categorical=N_CATEGORICAL, feature=target if kind != "stationary" else None, seed=seed + r,
        )
        models = {n: FeatureModel(n, sc.reference.features[n], n in sc.numeric) for n in (*sc.numeric, *sc.categorical)}
        for w in range(windows_per_ref):
            rows = slice(w * window, (w + 1) * window)
            decisions = decide_window(models, sc.current, rows)
            for name, d in decisions.items():
                if name in sc.injected:
                    power.add(int(d.drifted), 1)
                else:
                    stationary.add(int(d.drifted), 1)
    return {"stationary": stationary, "power": power}


def decide_window(models: dict[str, FeatureModel], current: Sample, rows: slice) -> dict:
    tests, ths = {}, {}
    for name, model in models.items():
        values = current.features[name][rows]
        test = model.test(values)
        tests[name] = test
        ths[name] = model.threshold(rows.stop - rows.start, test.n_current, test.effect_method)
    return thresholds.decide(tests, ths, alpha=ALPHA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer windows, for CI")
    args = parser.parse_args()
    n_refs, per_ref = (8, 5) if args.quick else (20, 10)
    started = time.perf_counter()
    print(f"Drift detection on binned data ({N_BINS} quantile bins), reference 20,000 rows, windows of 10,000,")
    print(f"{N_NUMERIC} numeric + {N_CATEGORICAL} categorical features, {n_refs * per_ref} windows per scenario.\n")
    false_alarms, ok = Tally(), True
    rows = []
    for kind, label in (
        ("stationary", "stationary control"),
        ("mean_shift", "mean shift +0.5 sd"),
        ("variance_change", "std x1.5"),
        ("category_reweighting", "category reweighting (-10 points)"),
    ):
        res = run_windows(kind, n_refs, per_ref, 10_000, 20_000, seed=1000 * len(rows))
        false_alarms.add(res["stationary"].flagged, res["stationary"].checks)
        if kind != "stationary":
            rows.append((label, res["power"]))
        else:
            rows.append((label, None))
    print(f"{'check':40s} {'rate':>8s} {'flags/checks':>14s}  target")
    met = false_alarms.rate <= 0.01
    ok &= met
    print(f"{'false alarms, stationary feature x window':40s} {false_alarms.rate:8.2%} "
          f"{f'{false_alarms.flagged}/{false_alarms.checks}':>14s}  <= 1 %   {'MET' if met else 'MISSED'}")
    for label, tally in rows:
        if tally is None:
            continue
        met = tally.rate >= 0.99
        ok &= met
        print(f"{'power, ' + label:40s} {tally.rate:8.2%} {f'{tally.flagged}/{tally.checks}':>14s}  >= 99 %  "
              f"{'MET' if met else 'MISSED'}")

    # Windows larger than the reference: thresholds learned on 10k chunks, rescaled to 100k rows.
    big = run_windows("stationary", 2 if args.quick else 4, 3 if args.quick else 5, 100_000, 20_000, seed=77)
    met = big["stationary"].rate <= 0.01
    ok &= met
    s = big["stationary"]
    print(f"{'false alarms, 100k windows vs 20k ref':40s} {s.rate:8.2%} {f'{s.flagged}/{s.checks}':>14s}  "
          f"<= 1 %   {'MET' if met else 'MISSED'}")

    # --- Label-free performance estimation (MAE): added by the estimation module's owner. ---

    print(f"\n{'all targets met' if ok else 'SOME TARGETS MISSED'} in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
