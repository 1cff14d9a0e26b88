"""Build an engine `WindowInput` from a `drift.scenarios` scenario, the way the service does it.

The reference is sketched whole (its reservoir keeps up to 5,000 rows); the current sample is cut into
24 hourly fragments of 200-row reservoirs and merged, as ingestion and the analysis would. No database.
"""

from typing import Any

import numpy as np

from drift.engine.bins import bin_codes, bin_count
from drift.engine.context import FeatureInfo, ModelInfo, WindowInput
from drift.engine.label_sketch import merge_label_sketches, sketch_labels
from drift.engine.reference import summarise_labels
from drift.profiles import merge_sketches, sketch_rows, spec_from_reference
from drift.scenarios import Sample, Scenario, make_scenario

HOURS = 24
MODEL = ModelInfo("binary_classification", "1", values={"tp": 100.0, "fp": -50.0, "tn": 0.0, "fn": -100.0})


def columns(sample: Sample) -> dict[str, Any]:
    out: dict[str, Any] = dict(sample.features)
    out["segment"], out["group"] = sample.segment, sample.sensitive
    return out


def kinds(sc: Scenario) -> dict[str, str]:
    return {
        **dict.fromkeys(sc.numeric, "numeric"),
        **dict.fromkeys(sc.categorical, "categorical"),
        "segment": "categorical",
        "group": "categorical",
    }


def features(sc: Scenario) -> tuple[FeatureInfo, ...]:
    roles = {"segment": "segment", "group": "sensitive"}
    return tuple(FeatureInfo(name, kind, roles.get(name, "input")) for name, kind in kinds(sc).items())


def window_input(
    sc: Scenario, *, model: ModelInfo = MODEL, labels: bool = True, identifier: bool = False, **extra: Any
) -> WindowInput:
    """`identifier=True` adds a hashed `customer_id` (one value per row) the way ingestion treats it:
    profiled, but kept out of the label sketches; the reference's label summary is built with every
    profiled feature, as profiles cached before identifiers were left out were."""
    ref_cols, cur_cols = columns(sc.reference), columns(sc.current)
    feature_kinds = kinds(sc)
    if identifier:
        ref_cols["customer_id"] = np.array([f"r{i:06d}" for i in range(sc.reference.n)], dtype=object)
        cur_cols["customer_id"] = np.array([f"c{i:06d}" for i in range(sc.current.n)], dtype=object)
        feature_kinds = {"customer_id": "categorical", **feature_kinds}
    spec = spec_from_reference(ref_cols, feature_kinds, scores=sc.reference.score)
    reference = sketch_rows(
        ref_cols, spec, scores=sc.reference.score, predictions=sc.reference.prediction, reservoir_size=5_000
    )
    n = sc.current.n
    hours, label_parts = [], []
    for h in range(HOURS):
        rows = slice(h * n // HOURS, (h + 1) * n // HOURS)
        part = {k: v[rows] for k, v in cur_cols.items()}
        cur = sc.current
        size = rows.stop - rows.start
        hours.append(
            sketch_rows(
                part,
                spec,
                scores=cur.score[rows],
                predictions=cur.prediction[rows],
                latencies=np.full(size, 20.0),
                reservoir_size=200,
                seed=h,
            )
        )
        label_parts.append(
            sketch_labels(
                task=model.task,
                timestamps=np.arange(rows.start, rows.stop, dtype=float),
                predictions=cur.prediction[rows],
                labels=cur.y[rows],
                scores=cur.score[rows],
                features={k: list(v) for k, v in part.items() if k != "customer_id"},
                seed=h,
            )
        )
    codes = {b.name: bin_codes(list(ref_cols[b.name]), b) for b in spec.features}
    reference_labels = summarise_labels(
        model,
        predictions=sc.reference.prediction,
        labels=sc.reference.y,
        scores=sc.reference.score,
        codes=codes,
        bins={b.name: bin_count(b) for b in spec.features},
    )
    infos = features(sc)
    if identifier:
        infos = (FeatureInfo("customer_id", "categorical"), *infos)
    return WindowInput(
        spec=spec,
        features=infos,
        model=model,
        current=merge_sketches(hours, reservoir_size=5_000),
        reference=reference,
        reference_labels=reference_labels,
        labels=merge_label_sketches(label_parts) if labels else None,
        **extra,
    )


def scenario_input(
    kind: str,
    *,
    seed: int = 0,
    n_reference: int = 20_000,
    n_current: int = 10_000,
    magnitude: float | None = None,
    **extra: Any,
) -> WindowInput:
    sc = make_scenario(kind, n_reference=n_reference, n_current=n_current, seed=seed, magnitude=magnitude)
    return window_input(sc, **extra)
