"""Learning per-feature drift thresholds: cost per analysed window, against one plain comparison.

    .venv/bin/python bench/thresholds.py

Promise: learning the thresholds of 25 features (binned bootstrap, four statistics each) takes under
250 ms of CPU (10 ms a feature), and the sample-based learner under 600 ms for one feature (20,000
reference rows, 5,000 per window). The baseline, measured in the same run, is comparing one window
with the reference once per feature (the work an analysis does anyway), so the ratio says what
learning adds on top.
CPU time (time.process_time), best of five, so a busy neighbour on a shared machine does not count.
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drift.stats import binning
from drift.stats.thresholds import learn_thresholds_binned, learn_thresholds_samples
from drift.stats.univariate import numeric_drift_binned

FEATURES = 25
METHODS = ("wasserstein", "ks", "jensenshannon", "psi")
BINNED_BUDGET, SAMPLES_BUDGET = 0.25, 0.6


def best_cpu(run: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def main() -> int:
    rng = np.random.default_rng(0)
    refs = [rng.normal(size=50_000) for _ in range(FEATURES)]
    edges = [binning.quantile_edges(r, 20) for r in refs]
    counts = [binning.bin_counts(r, e) for r, e in zip(refs, edges, strict=True)]
    window = [binning.bin_counts(rng.normal(0.1, 1, 10_000), e) for e in edges]

    def compare() -> None:
        for c, w, e in zip(counts, window, edges, strict=True):
            for method in METHODS:
                numeric_drift_binned(c, w, e, effect=method if method != "ks" else "wasserstein")

    def learn() -> None:
        for c, e in zip(counts, edges, strict=True):
            learn_thresholds_binned(c, 10_000, methods=METHODS, edges=e)

    baseline = best_cpu(compare)
    binned = best_cpu(learn)
    samples = best_cpu(lambda: learn_thresholds_samples(refs[0][:20_000], 5_000), rounds=3)
    print(f"compare one window, {FEATURES} features x {len(METHODS)} statistics: {baseline * 1000:8.1f} ms")
    print(
        f"learn binned thresholds, same features:            {binned * 1000:8.1f} ms "
        f"({binned / baseline:.1f}x the comparison; budget {BINNED_BUDGET * 1000:.0f} ms)"
    )
    print(
        f"learn sample thresholds, one feature:              {samples * 1000:8.1f} ms "
        f"(budget {SAMPLES_BUDGET * 1000:.0f} ms)"
    )
    ok = binned < BINNED_BUDGET and samples < SAMPLES_BUDGET
    print("MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
