"""Mergeable per-hour sketches of prediction telemetry (DESIGN decision 1). Pure: numpy only, no Django.

A *spec* fixes the bins from the reference: numeric features get reference-quantile edges (plus two
overflow bins, see `drift.stats.binning`), categorical features the reference's most common categories
plus `other` (seen in the reference, not kept), `unseen` (never in the reference) and null. A *sketch*
counts a set of rows on those bins, with count / sum / sum of squares / min / max, prediction, score and
latency summaries, value-problem counts, and a bounded uniform reservoir sample of rows for the tests that
need raw values. Sketches merge exactly (counts add) except the reservoir, which merges into another
uniform sample, so an analysis of any window merges hours: its cost grows with bins and hours, not rows.

Example:
    >>> import numpy as np
    >>> spec = spec_from_reference({"x": np.arange(100.0)}, {"x": "numeric"}, n_bins=4)
    >>> a = sketch_rows({"x": np.array([1.0, 50.0])}, spec, reservoir_size=10, seed=1)
    >>> b = sketch_rows({"x": np.array([99.0, np.nan])}, spec, reservoir_size=10, seed=2)
    >>> m = merge_sketches([a, b], reservoir_size=10, seed=3)
    >>> m["n"], m["features"]["x"]["count"], m["features"]["x"]["nulls"], m["features"]["x"]["bins"]
    (4, 3, 1, [0, 1, 0, 1, 1, 0])
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drift.stats.binning import bin_counts, quantile_edges

DEFAULT_BINS = 20
MAX_CATEGORIES = 50
# Unseen values kept by name per sketch, so a narrative can say *which* new category appeared.
MAX_UNSEEN_NAMES = 20
# Latency summary bins: log-spaced from 0.1 ms to ~100 s, fine enough for p50/p95/p99 within ~5 %.
LATENCY_EDGES = tuple(float(x) for x in np.geomspace(0.1, 100_000.0, 121))


@dataclass(frozen=True)
class FeatureBins:
    name: str
    kind: str  # numeric | categorical | boolean
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    known: tuple[str, ...] = ()  # every reference category (kept or `other`), to tell other from unseen


@dataclass(frozen=True)
class ProfileSpec:
    features: tuple[FeatureBins, ...]
    score_edges: tuple[float, ...] = field(default=tuple(float(x) for x in np.linspace(0.0, 1.0, 21)))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileSpec:
        return cls(
            features=tuple(
                FeatureBins(
                    name=f["name"],
                    kind=f["kind"],
                    edges=tuple(f["edges"]),
                    categories=tuple(f["categories"]),
                    known=tuple(f["known"]),
                )
                for f in data["features"]
            ),
            score_edges=tuple(data["score_edges"]),
        )

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:16]


_TEXT_TYPES = frozenset({str, type(None)})


def as_float(values: Sequence[Any] | NDArray[Any]) -> NDArray[np.float64]:
    """Numbers to floats with NaN for null (None), for columns taken from JSON rows."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values
    # numpy turns None into NaN itself when asked for floats.
    return np.array(values, dtype=np.float64)


def as_text(values: Sequence[Any] | NDArray[Any]) -> NDArray[np.object_]:
    """Categories to text with None kept for null (categories may arrive as codes, 3, or names, "3")."""
    if set(map(type, values)) <= {str, type(None)}:
        return np.array(values, dtype=object)  # already text: no per-value conversion
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def spec_from_reference(
    columns: Mapping[str, Sequence[Any] | NDArray[Any]],
    kinds: Mapping[str, str],
    *,
    scores: Sequence[Any] | NDArray[Any] | None = None,
    n_bins: int = DEFAULT_BINS,
    max_categories: int = MAX_CATEGORIES,
) -> ProfileSpec:
    """Bins for each feature from the reference's values (`kinds`: name → numeric|categorical|boolean)."""
    features = []
    for name, kind in kinds.items():
        values = columns.get(name, [])
        if kind == "numeric":
            edges = quantile_edges(as_float(values), n_bins=n_bins)
            features.append(FeatureBins(name, kind, edges=tuple(float(e) for e in edges)))
        elif kind == "categorical":
            text = [v for v in as_text(values) if v is not None]
            ranked = [value for value, _ in Counter(text).most_common()]
            features.append(
                FeatureBins(
                    name, kind, categories=tuple(ranked[:max_categories]), known=tuple(sorted(ranked))
                )
            )
        else:
            features.append(FeatureBins(name, kind))
    score_edges: tuple[float, ...] = ProfileSpec.__dataclass_fields__["score_edges"].default  # type: ignore[assignment]
    if scores is not None:
        s = as_float(scores)
        s = s[np.isfinite(s)]
        # Scores outside [0, 1] are not probabilities (a regression or a margin): bin them by quantile.
        if s.size and (s.min() < 0.0 or s.max() > 1.0):
            score_edges = tuple(float(e) for e in quantile_edges(s, n_bins=n_bins))
    return ProfileSpec(features=tuple(features), score_edges=score_edges)


def _numeric_sketch(values: NDArray[np.float64], bins: FeatureBins) -> dict[str, Any]:
    ok = np.isfinite(values)
    x = values[ok]
    out: dict[str, Any] = {"count": int(x.size), "nulls": int(values.size - x.size)}
    if x.size:
        out.update(
            sum=float(x.sum()), sumsq=float(np.square(x).sum()), min=float(x.min()), max=float(x.max())
        )
    else:
        out.update(sum=0.0, sumsq=0.0, min=None, max=None)
    out["bins"] = bin_counts(x, bins.edges).tolist() if bins.edges else []
    return out


def _categorical_sketch(values: Sequence[Any], bins: FeatureBins) -> dict[str, Any]:
    # A Counter over the raw texts is one C pass; per-category work is then per distinct value.
    counts = Counter(values)
    nulls = counts.pop(None, 0)
    out: dict[str, Any] = {"count": len(values) - nulls, "nulls": nulls}
    if not bins.known:
        out["bins"] = []
        return out
    kept = [counts.get(c, 0) for c in bins.categories]
    kept_set, known = set(bins.categories), set(bins.known)
    other = sum(n for value, n in counts.items() if value not in kept_set and value in known)
    unseen = Counter({value: n for value, n in counts.items() if value not in known})
    out["bins"] = [*kept, other, sum(unseen.values())]
    if unseen:
        out["unseen_values"] = dict(unseen.most_common(MAX_UNSEEN_NAMES))
    return out


def _boolean_sketch(values: Sequence[Any]) -> dict[str, Any]:
    true = sum(1 for v in values if v is True)
    false = sum(1 for v in values if v is False)
    return {"count": true + false, "nulls": len(values) - true - false, "true": true}


def _reservoir(columns: Mapping[str, Any], n: int, size: int, rng: np.random.Generator) -> dict[str, Any]:
    take = np.sort(rng.choice(n, size=size, replace=False)).tolist() if n > size else range(n)
    rows = {}
    for name, values in columns.items():
        picked = [values[i] for i in take] if len(values) else []
        # NaN cannot go into JSON; it only stands for a missing value here. Only NaN differs from
        # itself among the values a JSON row holds, so no type check per value is needed.
        rows[name] = [None if v != v else v for v in picked]
    if "__prediction__" in rows:
        rows["__prediction__"] = [None if v is None else str(v) for v in rows["__prediction__"]]
    return {"seen": n, "rows": rows}


def sketch_rows(
    columns: Mapping[str, Sequence[Any] | NDArray[Any]],
    spec: ProfileSpec,
    *,
    scores: Sequence[Any] | None = None,
    predictions: Sequence[Any] | None = None,
    latencies: Sequence[Any] | None = None,
    errors: int = 0,
    late: int = 0,
    issues: Sequence[Mapping[str, str] | None] | None = None,
    reservoir_size: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Sketch one set of rows (typically one hour of one ingestion batch). JSON-ready."""
    n = len(next(iter(columns.values()))) if columns else len(scores or [])
    features: dict[str, Any] = {}
    sample_columns: dict[str, Any] = {}
    for bins in spec.features:
        values = columns.get(bins.name)
        if values is None:
            values = [None] * n
        if bins.kind == "numeric":
            features[bins.name] = _numeric_sketch(as_float(values), bins)
            sample_columns[bins.name] = values
        elif bins.kind == "categorical":
            # Texts and nulls (the usual column) are used as they are, not copied through numpy.
            text = list(values) if set(map(type, values)) <= _TEXT_TYPES else as_text(values).tolist()
            features[bins.name] = _categorical_sketch(text, bins)
            sample_columns[bins.name] = text
        else:
            features[bins.name] = _boolean_sketch(list(values))
            sample_columns[bins.name] = list(values)
    out: dict[str, Any] = {"n": n, "features": features, "errors": int(errors), "late": int(late)}
    if scores is not None:
        s = as_float(scores)
        ok = np.isfinite(s)
        out["score"] = {
            "count": int(ok.sum()),
            "sum": float(s[ok].sum()),
            "sumsq": float(np.square(s[ok]).sum()),
            "bins": bin_counts(s[ok], spec.score_edges).tolist(),
        }
        sample_columns["__score__"] = s
    if predictions is not None:
        # Count raw values (one C pass), then name them as text; only sampled ones are converted.
        out["predictions"] = {str(value): n for value, n in Counter(predictions).items()}
        sample_columns["__prediction__"] = predictions
    if latencies is not None:
        lat = as_float(latencies)
        ok = np.isfinite(lat)
        out["latency"] = {
            "count": int(ok.sum()),
            "sum": float(lat[ok].sum()),
            "max": float(lat[ok].max()) if ok.any() else None,
            "bins": bin_counts(lat[ok], LATENCY_EDGES).tolist(),
        }
    if issues is not None:
        tally: dict[str, dict[str, int]] = {}
        for row in issues:
            if not row:  # most rows have no issue
                continue
            for feature, problem in row.items():
                tally.setdefault(feature, {}).setdefault(problem, 0)
                tally[feature][problem] += 1
        out["issues"] = tally
    out["reservoir"] = _reservoir(sample_columns, n, reservoir_size, np.random.default_rng(seed))
    return out


def _add_lists(a: list[int], b: list[int]) -> list[int]:
    if not a:
        return list(b)
    if not b:
        return list(a)
    return [x + y for x, y in zip(a, b, strict=True)]


def _merge_feature(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key in ("count", "nulls", "sum", "sumsq", "true"):
        if key in a or key in b:
            out[key] = a.get(key, 0) + b.get(key, 0)
    for key, pick in (("min", min), ("max", max)):
        values = [v for v in (a.get(key), b.get(key)) if v is not None]
        if key in a or key in b:
            out[key] = pick(values) if values else None
    if "bins" in a or "bins" in b:
        out["bins"] = _add_lists(a.get("bins", []), b.get("bins", []))
    if "unseen_values" in a or "unseen_values" in b:
        merged = Counter(a.get("unseen_values", {})) + Counter(b.get("unseen_values", {}))
        out["unseen_values"] = dict(merged.most_common(MAX_UNSEEN_NAMES))
    return out


def _merge_reservoirs(parts: Sequence[dict[str, Any]], size: int, rng: np.random.Generator) -> dict[str, Any]:
    parts = [p for p in parts if p and p.get("seen")]
    if not parts:
        return {"seen": 0, "rows": {}}
    seen = np.array([p["seen"] for p in parts], dtype=np.int64)
    held = np.array([len(next(iter(p["rows"].values()), [])) for p in parts], dtype=np.int64)
    total = int(seen.sum())
    # Each part contributes in proportion to the rows it stands for (multivariate hypergeometric),
    # so the merged sample stays uniform over all rows seen.
    want = rng.multivariate_hypergeometric(seen, min(size, total)) if total > size else seen
    want = np.minimum(want, held)
    names = list(parts[0]["rows"])
    rows: dict[str, list[Any]] = {name: [] for name in names}
    for part, k, h in zip(parts, want, held, strict=True):
        if k <= 0:
            continue
        take = np.sort(rng.choice(h, size=k, replace=False)) if k < h else np.arange(h)
        for name in names:
            column = part["rows"].get(name, [None] * h)
            rows[name].extend(column[i] for i in take)
    return {"seen": total, "rows": rows}


def merge_sketches(
    sketches: Sequence[dict[str, Any]], *, reservoir_size: int = 5000, seed: int = 0
) -> dict[str, Any]:
    """Merge sketches made with the same spec: counts add, min/max combine, reservoirs stay uniform."""
    out: dict[str, Any] = {"n": 0, "features": {}, "errors": 0, "late": 0}
    for s in sketches:
        out["n"] += s.get("n", 0)
        out["errors"] += s.get("errors", 0)
        out["late"] += s.get("late", 0)
        for name, feat in s.get("features", {}).items():
            out["features"][name] = (
                _merge_feature(out["features"][name], feat) if name in out["features"] else dict(feat)
            )
        for key in ("score", "latency"):
            if key in s:
                out[key] = _merge_feature(out[key], s[key]) if key in out else dict(s[key])
        if "predictions" in s:
            out["predictions"] = dict(Counter(out.get("predictions", {})) + Counter(s["predictions"]))
        if "issues" in s:
            issues = out.setdefault("issues", {})
            for feature, problems in s["issues"].items():
                slot = issues.setdefault(feature, {})
                for problem, count in problems.items():
                    slot[problem] = slot.get(problem, 0) + count
    out["reservoir"] = _merge_reservoirs(
        [s.get("reservoir", {}) for s in sketches], reservoir_size, np.random.default_rng(seed)
    )
    return out


def latency_quantiles(
    latency: Mapping[str, Any], quantiles: Sequence[float] = (0.5, 0.95, 0.99)
) -> dict[str, float | None]:
    """p50/p95/p99 from a latency sketch, interpolated inside log-spaced bins (within ~5 %)."""
    counts = np.asarray(latency.get("bins", []), dtype=np.float64)
    total = counts.sum()
    result: dict[str, float | None] = {}
    edges = np.asarray(LATENCY_EDGES)
    for q in quantiles:
        key = f"p{round(q * 100):d}"
        if total <= 0:
            result[key] = None
            continue
        cum = np.cumsum(counts)
        i = int(np.searchsorted(cum, q * total, side="left"))
        if i == 0:
            result[key] = float(edges[0])
        elif i >= edges.size:
            result[key] = float(latency.get("max") or edges[-1])
        else:
            lo, hi = edges[i - 1], edges[i]
            before = cum[i - 1]
            frac = (q * total - before) / counts[i] if counts[i] else 0.0
            result[key] = float(lo * (hi / lo) ** frac)  # geometric interpolation in a log bin
    return result
