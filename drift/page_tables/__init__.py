"""The tables of the pages, as data: the page renders them and the CSV download writes the same rows."""

from drift.page_tables.base import Column, Table
from drift.page_tables.model import (
    attribution_table,
    events_table,
    fairness_table,
    features_table,
    metrics_table,
    operations_table,
    outcomes_table,
    quality_table,
)
from drift.page_tables.other import (
    distribution_table,
    feature_quality_table,
    history_table,
    lineage_table,
    portfolio_table,
)

__all__ = [
    "Column",
    "Table",
    "attribution_table",
    "distribution_table",
    "events_table",
    "fairness_table",
    "feature_quality_table",
    "features_table",
    "history_table",
    "lineage_table",
    "metrics_table",
    "operations_table",
    "outcomes_table",
    "portfolio_table",
    "quality_table",
]
