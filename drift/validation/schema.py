"""The schema records are checked against, shared constants, timestamps and PII handling."""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NUMBER_TYPES = (int, float)
OUT_OF_RANGE = "out_of_range"
UNDECLARED_CATEGORY = "undeclared_category"
NULL_NOT_ALLOWED = "null_not_allowed"
PREDICTION_FIELDS = frozenset(
    {"id", "timestamp", "features", "prediction", "score", "latency_ms", "status", "attributions", "lineage"}
)
REFERENCE_FIELDS = frozenset({"features", "prediction", "score", "label"})
STATUSES = frozenset({"ok", "error"})
MAX_ID_LENGTH = 200
MAX_LINEAGE_DEPTH = 16


@dataclass(frozen=True)
class FeatureRule:
    name: str
    type: str  # numeric | categorical | boolean
    pii: str = "keep"  # keep | hash | drop
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    categories: frozenset[str] | None = None  # None: nothing declared, so nothing is "undeclared"


@dataclass(frozen=True)
class Schema:
    features: tuple[FeatureRule, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(rule.name for rule in self.features)


@dataclass
class FeatureCheck:
    """Per-record results of `check_features`, index-aligned with the input."""

    errors: list[list[dict[str, str]]]
    issues: list[dict[str, str]]


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, NUMBER_TYPES):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    # type() rather than isinstance(): bool is a subclass of int and must not pass as a number.
    return type(value) in NUMBER_TYPES


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 text to an aware UTC datetime; naive times are taken as UTC. None when unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # Converting e.g. 0001-01-01T00:00+05:00 to UTC leaves the representable range.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def pii_hasher(key: bytes) -> Callable[[Any], str]:
    """Keyed HMAC-SHA256 of a value's text: equal inputs stay equal, the raw value cannot be recovered."""

    def digest(value: Any) -> str:
        return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    return digest


def apply_pii(features: dict[str, Any], schema: Schema, hasher: Callable[[Any], str]) -> dict[str, Any]:
    """Drop `drop` features and hash `hash` features; returns a new dict (the input is left alone)."""
    out = dict(features)
    for rule in schema.features:
        if rule.pii == "drop":
            out.pop(rule.name, None)
        elif rule.pii == "hash" and out.get(rule.name) is not None:
            out[rule.name] = hasher(out[rule.name])
    return out


def is_scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)
