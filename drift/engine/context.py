"""What a section receives (`WindowInput`) and small helpers shared by the sections. Pure.

Example:
    >>> jsonable({"a": float("nan"), "b": (1, 2.5)})
    {'a': None, 'b': [1, 2.5]}
    >>> column({"reservoir": {"seen": 2, "rows": {"x": [1.0, None]}}}, "x", numeric=True).tolist()
    [1.0, nan]
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from drift.profiles import ProfileSpec
from drift.stats.multivariate import PCAThreshold
from drift.stats.thresholds import LearnedThreshold

OK, NO_DATA, NOT_APPLICABLE, ERROR = "ok", "no_data", "not_applicable", "error"
SECTIONS = (
    "data_drift",
    "data_quality",
    "performance",
    "estimated_performance",
    "calibration",
    "fairness",
    "concept_drift",
    "attribution",
    "operations",
)
# Label-dependent sections: the only ones a holdout evaluation computes.
LABEL_SECTIONS = ("performance", "calibration", "fairness", "concept_drift")


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    kind: str  # numeric | categorical | boolean
    role: str = "input"  # input | sensitive | segment


@dataclass(frozen=True)
class ModelInfo:
    task: str  # binary_classification | multiclass_classification | regression
    positive_label: str = ""
    four_fifths: bool = False
    values: Mapping[str, float | None] = field(default_factory=dict)  # value of tp / fp / tn / fn
    currency: str = "USD"
    cost_per_unit_error: float | None = None


class ThresholdSource(Protocol):
    """Gives the learned threshold for one feature at one window size (the service caches them), and
    the null of the PCA reconstruction error for a window of so many sample rows."""

    def get(
        self, feature: str, mode: str, method: str, window_size: int, learn: Callable[[int], LearnedThreshold]
    ) -> LearnedThreshold: ...

    def pca_threshold(self, window_size: int, learn: Callable[[int], PCAThreshold]) -> PCAThreshold: ...


class LearnAlways:
    """No cache: learn at the window's own size every time (tests and one-off analyses)."""

    def get(
        self, feature: str, mode: str, method: str, window_size: int, learn: Callable[[int], LearnedThreshold]
    ) -> LearnedThreshold:
        return learn(max(1, window_size))

    def pca_threshold(self, window_size: int, learn: Callable[[int], PCAThreshold]) -> PCAThreshold:
        return learn(max(1, window_size))


@dataclass(frozen=True)
class WindowInput:
    """Everything an analysis reads: sketches and aggregates, never raw rows."""

    spec: ProfileSpec
    features: tuple[FeatureInfo, ...]
    model: ModelInfo
    current: Mapping[str, Any]  # merged profile sketch of the window (`drift.profiles`)
    reference: Mapping[str, Any]  # the reference's sketch on the same bins
    reference_labels: Mapping[str, Any] = field(default_factory=dict)  # `drift.engine.reference`
    labels: Mapping[str, Any] | None = None  # merged label sketch (`drift.engine.label_sketch`)
    history: Sequence[Mapping[str, Any]] = ()  # earlier comparable runs' results by section, oldest first
    batches: Mapping[str, int] = field(default_factory=dict)  # accepted / rejected records received
    health: Mapping[str, Any] = field(default_factory=dict)  # aggregated health samples
    stale_rows: int = 0  # rows whose fragments were made with other bins (left out, rebuild queued)
    window_start: datetime | None = None
    window_end: datetime | None = None
    thresholds: ThresholdSource = field(default_factory=LearnAlways)
    seed: int = 0
    columns: ColumnCache = field(default_factory=lambda: ColumnCache(), repr=False, compare=False)

    def by_role(self, role: str) -> list[FeatureInfo]:
        return [f for f in self.features if f.role == role]

    def column(self, sketch: Mapping[str, Any] | None, name: str, *, numeric: bool = False) -> NDArray[Any]:
        """`column`, converted once per analysis (several sections read the same reservoir columns)."""
        return self.columns.get(sketch, name, numeric=numeric)


class ColumnCache:
    """Reservoir columns already converted to arrays, keyed by the stored list they came from.

    An entry keeps its list alive, so an id is never reused while cached; callers get a copy, so no
    section can change what another one reads.
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[int, bool], tuple[list[Any], NDArray[Any]]] = {}

    def get(self, sketch: Mapping[str, Any] | None, name: str, *, numeric: bool = False) -> NDArray[Any]:
        values = (((sketch or {}).get("reservoir") or {}).get("rows") or {}).get(name)
        if not isinstance(values, list):
            return column(sketch, name, numeric=numeric)
        key = (id(values), numeric)
        hit = self._memo.get(key)
        if hit is None or hit[0] is not values:
            hit = (values, column(sketch, name, numeric=numeric))
            self._memo[key] = hit
        return hit[1].copy()


_AS_IS = frozenset({str, int, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, tuples to lists, NaN/inf to None (JSONB refuses them)."""
    # Exact plain types first: results hold tens of thousands of values, converted twice (by the
    # section and by `analyse`), and the abstract-class checks below cost a microsecond each.
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def section(fn: Callable[[WindowInput], dict[str, Any]]) -> Callable[[WindowInput], dict[str, Any]]:
    """Mark a section function: its result comes back JSON-ready (dataclasses and numpy values converted)."""

    @functools.wraps(fn)
    def wrapper(inp: WindowInput) -> dict[str, Any]:
        return jsonable(fn(inp))

    return wrapper


def skipped(status: str, reason: str, **data: Any) -> dict[str, Any]:
    return {"status": status, "reason": reason, **data}


def column(sketch: Mapping[str, Any] | None, name: str, *, numeric: bool = False) -> NDArray[Any]:
    """One column of a sketch's reservoir: floats with NaN for null, or objects with None."""
    rows = ((sketch or {}).get("reservoir") or {}).get("rows") or {}
    values = rows.get(name, [])
    # Fast paths for the usual column of only numbers (or only texts) and nulls: sections call this for
    # every feature of 5,000-row reservoirs, several times per analysis.
    types = set(map(type, values))
    if numeric:
        if types <= _PLAIN_NUMBERS:
            return np.array(values, dtype=np.float64)  # numpy reads None as NaN itself
        return np.array([_to_float(v) for v in values], dtype=np.float64)
    if types <= _PLAIN_TEXTS:
        cells = np.empty(len(values), dtype=object)
        cells[:] = values
        return cells
    return np.array([None if v is None else str(v) for v in values], dtype=object)


_NONE = type(None)
_PLAIN_NUMBERS = frozenset({int, float, bool, _NONE})  # float(v) is what `_to_float` gives for these
_PLAIN_TEXTS = frozenset({str, _NONE})


def _to_float(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return float("nan") if value is None else float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def reservoir_size(sketch: Mapping[str, Any] | None) -> tuple[int, int]:
    """(rows the reservoir stands for, rows it holds)."""
    res = (sketch or {}).get("reservoir") or {}
    held = len(next(iter((res.get("rows") or {}).values()), []))
    return int(res.get("seen", 0)), held


def is_complete(sketch: Mapping[str, Any] | None) -> bool:
    """Whether the reservoir holds every row (then exact tests see all the data)."""
    seen, held = reservoir_size(sketch)
    return seen > 0 and held >= seen


def positive_label(model: ModelInfo, observed: Sequence[str] = ()) -> str:
    """The positive class as text: the model's setting, else "1" / "true" when seen, else the last label.

    Example:
        >>> positive_label(ModelInfo("binary_classification"), ["0", "1"])
        '1'
    """
    if model.positive_label:
        return str(model.positive_label)
    seen = {str(v) for v in observed if v is not None}
    for candidate in ("1", "1.0", "true", "True", "yes", "positive"):
        if candidate in seen:
            return candidate
    return sorted(seen)[-1] if seen else "1"


def pretty(name: str) -> str:
    """A feature name for sentences: ``credit_score`` → ``credit score``."""
    return name.replace("_", " ")
