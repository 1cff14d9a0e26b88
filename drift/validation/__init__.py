"""Check telemetry records against a version's feature schema. Pure: no Django.

Two kinds of problems, treated differently because monitoring must see the second kind:

- *structural* problems refuse the record (wrong type, unknown feature, missing id/timestamp/prediction,
  unparseable timestamp): it cannot be stored meaningfully;
- *value* problems are stored and counted (outside the declared range, a category never declared, a null
  where the schema says not nullable, a late timestamp).

Error messages name the field and the problem but never echo the value, so raw PII cannot leak into
responses or logs.

Example:
    >>> schema = Schema((FeatureRule("age", "numeric", min_value=18, max_value=99),))
    >>> out = check_features([{"age": 17}, {"age": "x"}], schema)
    >>> out.errors[1], out.issues[0]
    ([{'field': 'features.age', 'message': 'expected a number, got a string'}], {'age': 'out_of_range'})
"""

from drift.validation.features import check_features
from drift.validation.predictions import CleanPrediction, PredictionCheck, check_predictions
from drift.validation.schema import (
    MAX_ID_LENGTH,
    MAX_LINEAGE_DEPTH,
    NULL_NOT_ALLOWED,
    NUMBER_TYPES,
    OUT_OF_RANGE,
    PREDICTION_FIELDS,
    REFERENCE_FIELDS,
    STATUSES,
    UNDECLARED_CATEGORY,
    FeatureCheck,
    FeatureRule,
    Schema,
    apply_pii,
    is_number,
    is_scalar,
    parse_timestamp,
    pii_hasher,
    type_name,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_LINEAGE_DEPTH",
    "NULL_NOT_ALLOWED",
    "NUMBER_TYPES",
    "OUT_OF_RANGE",
    "PREDICTION_FIELDS",
    "REFERENCE_FIELDS",
    "STATUSES",
    "UNDECLARED_CATEGORY",
    "CleanPrediction",
    "FeatureCheck",
    "FeatureRule",
    "PredictionCheck",
    "Schema",
    "apply_pii",
    "check_features",
    "check_predictions",
    "is_number",
    "is_scalar",
    "parse_timestamp",
    "pii_hasher",
    "type_name",
]
