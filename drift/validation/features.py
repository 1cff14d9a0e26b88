"""Feature values checked column by column: the usual well-formed batch costs a few C-level passes."""

from collections.abc import Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from drift.validation.schema import (
    NULL_NOT_ALLOWED,
    OUT_OF_RANGE,
    UNDECLARED_CATEGORY,
    FeatureCheck,
    FeatureRule,
    Schema,
    type_name,
)

NONE_TYPE = type(None)
# Value types each feature type accepts. Exact types, not isinstance(): bool is a subclass of int and must
# not pass as a number. Categories may be sent as codes (3) or names ("gold"); they are compared as text.
ACCEPTED_TYPES = {"numeric": frozenset({int, float}), "boolean": frozenset({bool})}
_CATEGORY_TYPES = frozenset({str, int})
_EXPECTED = {"numeric": "a number", "boolean": "true or false"}


def _check_values(
    rule: FeatureRule,
    column: Sequence[Any],
    errors: dict[int, list[dict[str, str]]],
    issues: dict[int, dict[str, str]],
) -> None:
    """The reference check of one column, value by value. `errors` and `issues` are keyed by index."""
    name = rule.name
    accepted = ACCEPTED_TYPES.get(rule.type, _CATEGORY_TYPES)
    message = f"expected {_EXPECTED.get(rule.type, 'a string')}, got "
    low, high, cats = rule.min_value, rule.max_value, rule.categories
    for i, value in enumerate(column):
        if value is None:
            if not rule.nullable:
                issues.setdefault(i, {})[name] = NULL_NOT_ALLOWED
            continue
        if type(value) not in accepted:
            errors.setdefault(i, []).append(
                {"field": f"features.{name}", "message": message + type_name(value)}
            )
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            issues.setdefault(i, {})[name] = OUT_OF_RANGE
        elif cats is not None and str(value) not in cats:
            issues.setdefault(i, {})[name] = UNDECLARED_CATEGORY


def _all_declared(rule: FeatureRule, values: Sequence[Any], types: set[type]) -> bool:
    """True when no value (all non-null and of an accepted type) is outside the declared range or categories.

    Conservative: False sends the column to the value-by-value check, which finds the exact ones.
    """
    low, high, cats = rule.min_value, rule.max_value, rule.categories
    if not values or (low is None and high is None and cats is None):
        return True
    if cats is None:
        # min/max in C instead of two comparisons per value. A NaN (not possible from JSON) that
        # min/max return fails both comparisons, so it lands in the exact check too.
        return (low is None or min(values) >= low) and (high is None or max(values) <= high)
    if low is None and high is None:
        return cats.issuperset(values) if types == {str} else cats.issuperset(map(str, values))
    return False


def _check_column(
    rule: FeatureRule,
    column: Sequence[Any],
    errors: dict[int, list[dict[str, str]]],
    issues: dict[int, dict[str, str]],
) -> None:
    """Check one feature's values; the common all-well-typed, all-in-range column costs a few C calls."""
    types = set(map(type, column))
    has_null = NONE_TYPE in types
    types.discard(NONE_TYPE)
    values = [v for v in column if v is not None] if has_null else column
    if types <= ACCEPTED_TYPES.get(rule.type, _CATEGORY_TYPES) and _all_declared(rule, values, types):
        if has_null and not rule.nullable:
            for i, value in enumerate(column):
                if value is None:
                    issues.setdefault(i, {})[rule.name] = NULL_NOT_ALLOWED
        return
    _check_values(rule, column, errors, issues)


def _columns(rows: Sequence[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Sequence[Any]] | None:
    """Each feature's values, when every row holds every declared feature and nothing else; else None.

    The usual batch: one itemgetter per row and a transpose, all in C, instead of one lookup per value.
    """
    if len(names) < 2 or not rows:
        return None
    try:
        table = list(zip(*map(itemgetter(*names), rows), strict=True))
    except KeyError:
        return None  # some feature is absent from some row (sent as null by absence)
    if max(map(len, rows)) != len(names):
        return None  # some row names a feature the schema does not declare
    return dict(zip(names, table, strict=True))


def check_feature_objects(
    feature_dicts: Sequence[Any], schema: Schema
) -> tuple[dict[int, list[dict[str, str]]], dict[int, dict[str, str]]]:
    """`check_features` with results keyed by index, holding only the records that have some."""
    errors: dict[int, list[dict[str, str]]] = {}
    issues: dict[int, dict[str, str]] = {}
    known = schema.names
    rows: Sequence[Any] = feature_dicts
    plain = set(map(type, feature_dicts)) <= {dict}
    columns = _columns(feature_dicts, tuple(rule.name for rule in schema.features)) if plain else None
    # Without the transpose, one pass in C still tells whether any row names an undeclared feature.
    if columns is None and not (plain and known.issuperset(chain.from_iterable(feature_dicts))):
        rows = []
        for i, feats in enumerate(feature_dicts):
            if not isinstance(feats, dict):
                errors[i] = [{"field": "features", "message": f"expected an object, got {type_name(feats)}"}]
                rows.append({})
                continue
            if not known.issuperset(feats):
                unknown = sorted(str(k) for k in feats if k not in known)
                errors[i] = [
                    {
                        "field": "features",
                        "message": f"unknown feature(s) {', '.join(unknown[:5])}; "
                        "the version's schema does not declare them",
                    }
                ]
            rows.append(feats)
    get = dict.get
    for rule in schema.features:
        if rule.pii != "drop":
            column = columns[rule.name] if columns is not None else list(map(get, rows, repeat(rule.name)))
            _check_column(rule, column, errors, issues)
    return errors, issues


def check_features(feature_dicts: Sequence[Any], schema: Schema) -> FeatureCheck:
    """Check each record's ``features`` object, column by column (one tight loop per feature)."""
    errors, issues = check_feature_objects(feature_dicts, schema)
    n = len(feature_dicts)
    return FeatureCheck(
        errors=[errors.get(i) or [] for i in range(n)], issues=[issues.get(i) or {} for i in range(n)]
    )
