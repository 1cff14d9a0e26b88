"""What the labelled reference says, computed once per reference and cached with its profile. Pure.

The realised performance and confusion counts the windows are compared with, the isotonic calibrator
for label-free estimation, the reference's calibration error and error rate, and per feature the
target rate in each profile bin (for conditional target drift). The target is the positive class for
binary classifiers, and "this prediction was wrong" otherwise (for regression: an absolute error
above the reference's median absolute error). The bins cross each feature's profile bins with the
deciles of the model's score (of the prediction, for regression): under a pure change of the inputs
the target rate given the score stays put, so only a change of P(y | x) moves it.

Example:
    >>> import numpy as np
    >>> from drift.engine.context import ModelInfo
    >>> out = summarise_labels(ModelInfo("binary_classification", "1"), predictions=["1", "0", "1", "0"],
    ...                        labels=["1", "0", "0", "0"], scores=[0.9, 0.1, 0.6, 0.2],
    ...                        codes={"x": np.array([0, 0, 1, 1])}, bins={"x": 2})
    >>> out["performance"]["accuracy"], sum(out["conditional"]["x"]["n"]), out["target_rate"]
    (0.75, 4, 0.25)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drift.engine.context import ModelInfo, jsonable, positive_label
from drift.engine.performance import BINARY, REGRESSION, business_value, realised_metrics
from drift.stats import calibration, estimation

SCORE_BINS = 10


def score_edges(values: NDArray[Any]) -> list[float]:
    """Inner decile cut points of the reference's scores (or predictions)."""
    x = values[np.isfinite(values)]
    return np.unique(np.quantile(x, np.linspace(0, 1, SCORE_BINS + 1)[1:-1])).tolist() if x.size else []


def score_codes(values: NDArray[Any], edges: Sequence[float]) -> NDArray[np.intp]:
    """Decile of each score, with one extra code for a missing score."""
    e = np.asarray(edges, dtype=float)
    return np.where(np.isfinite(values), np.searchsorted(e, values, side="right"), len(e) + 1).astype(np.intp)


def crossed(feature: NDArray[Any], scores: NDArray[Any], edges: Sequence[float]) -> NDArray[np.intp]:
    """One code per (feature bin, score decile) cell."""
    return feature * (len(edges) + 2) + score_codes(scores, edges)


def _number(v: Any) -> float:
    try:
        return float(v) if v is not None and not isinstance(v, bool) else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def summarise_labels(
    model: ModelInfo,
    *,
    predictions: Sequence[Any],
    labels: Sequence[Any],
    scores: Sequence[Any],
    codes: Mapping[str, NDArray[Any]],
    bins: Mapping[str, int],
    skip: Collection[str] = (),
) -> dict[str, Any]:
    """Summaries of the reference rows that carry a label (`codes`: each row's bin per feature).

    `skip`: features that get no conditional table, namely identifier-like ones
    (`drift.engine.bins.identifier_features`): their bins hold a row or two each, and the label
    sketches of the windows do not keep hashed values to compare them with.
    """
    n = len(labels)
    if n == 0:
        return {"n": 0}
    s = np.array([_number(v) for v in scores], dtype=float)
    out: dict[str, Any] = {"n": n}
    p = np.array([_number(v) for v in predictions]) if model.task == REGRESSION else s
    if model.task == REGRESSION:
        y = np.array([_number(v) for v in labels])
        metrics = realised_metrics(model.task, y, p, s, "", n_resamples=0)
        err = np.abs(y - p)
        cut = float(np.nanmedian(err)) if np.isfinite(err).any() else 0.0
        target = np.nan_to_num(err, nan=0.0) > cut
        out.update(target="error", error_cut=cut)
    else:
        lab = np.array([str(v) for v in labels], dtype=object)
        pred = np.array([str(v) for v in predictions], dtype=object)
        pos = positive_label(model, lab.tolist())
        metrics = realised_metrics(model.task, lab, pred, s, pos, n_resamples=0)
        confusion: dict[str, dict[str, int]] = {}
        for (pv, lv), count in Counter(zip(pred.tolist(), lab.tolist(), strict=True)).items():
            confusion.setdefault(pv, {})[lv] = count
        wrong = pred != lab
        out.update(
            positive_label=pos,
            confusion=confusion,
            labels=sorted(set(lab.tolist())),
            error_rate=float(wrong.mean()),
        )
        if model.task == BINARY:
            target = lab == pos
            out["target"] = "label"
            out["business"] = business_value(model.values, model.currency, confusion, pos)
            ok = np.isfinite(s)
            if ok.sum() >= 2 and len(set(target[ok].tolist())) == 2:
                out["calibrator"] = estimation.fit_calibrator(
                    s[ok], target[ok], positive_label=True
                ).as_dict()
            if ok.any() and s[ok].min() >= 0 and s[ok].max() <= 1:
                err = calibration.calibration_error(target[ok], s[ok], positive_label=True)
                out["calibration"] = {"ece": err.ece, "mce": err.mce}
        else:
            target = wrong
            out["target"] = "error"
            ok = np.isfinite(s)
            if ok.any() and s[ok].min() >= 0 and s[ok].max() <= 1:
                err = calibration.calibration_error(~wrong[ok], s[ok], positive_label=True)
                out["calibration"] = {"ece": err.ece, "mce": err.mce}
    out["performance"] = {name: m.value for name, m in metrics.items()}
    out["target_rate"] = float(target.mean())
    basis = p if model.task == REGRESSION else s
    edges = score_edges(basis)
    out["score_edges"] = edges
    cells = len(edges) + 2
    tables = {"score": (score_codes(basis, edges), cells)}
    tables.update(
        {
            name: (crossed(c, basis, edges), bins[name] * cells)
            for name, c in codes.items()
            if name not in skip
        }
    )
    out["conditional"] = {
        name: {
            "n": np.bincount(c, minlength=k).tolist(),
            "pos": np.bincount(c, weights=target.astype(float), minlength=k).tolist(),
        }
        for name, (c, k) in tables.items()
    }
    return jsonable(out)
