"""The analysis engine: pure functions from merged sketches to JSON-ready section results.

No Django here. The service (`drift.services.analyses`) loads one `WindowInput` (the window's merged
profile and label fragments, the reference's profile, earlier runs' results, DB aggregates) and
`drift.engine.run.analyse` computes each section in its own module:

    drift.py        data drift per feature (binned or exact tests, learned thresholds, BH) + multivariate
    quality.py      missing / out-of-range / undeclared / late / refused shares and volume vs control limits
    performance.py  realised performance with labels, and estimated performance without them
    calibration.py  reliability and calibration error with labels
    fairness.py     group gaps on sensitive features
    concept.py      stream detectors over labelled rows in time order, conditional target drift
    attribution.py  surrogate feature importance vs the reference, and score confidence
    operations.py   latency quantiles, error rate, volume, health samples

Each section returns ``{"status": "ok" | "no_data" | "not_applicable" | "error", "reason": ..., ...}``;
one failing section never fails the run.

Fan-out: the per-feature drift tests (`drift.feature_tests`) depend only on one feature's sketches, so
large analyses can split them by feature group across workers; only the decision step
(`drift.decide_features`, Benjamini-Hochberg) needs every test of the window and runs once at the end.
"""
