"""Chart builders (DESIGN decision 7): pure functions from analysis results to Plotly figure dicts.

No Django here: views pass the dicts to templates with `json_script`, and the page script draws them
with the vendored plotly.min.js. Every builder returns a figure even without data (`empty_figure`,
which says why), so a page never breaks on a new model.
"""

from drift.charts.base import CONFIG, empty_figure, is_empty, wilson
from drift.charts.drift import (
    distribution_overlay,
    drift_heatmap,
    quality_over_time,
    sparkline,
    statistic_over_time,
)
from drift.charts.operations import latency_over_time, queue_over_time, volume_and_errors
from drift.charts.performance import (
    OUTCOME_NAMES,
    attribution_ranking,
    business_outcomes,
    calibration_curve,
    confidence_histogram,
    fairness_groups,
    metric_over_time,
)

__all__ = [
    "CONFIG",
    "OUTCOME_NAMES",
    "attribution_ranking",
    "business_outcomes",
    "calibration_curve",
    "confidence_histogram",
    "distribution_overlay",
    "drift_heatmap",
    "empty_figure",
    "fairness_groups",
    "is_empty",
    "latency_over_time",
    "metric_over_time",
    "quality_over_time",
    "queue_over_time",
    "sparkline",
    "statistic_over_time",
    "volume_and_errors",
    "wilson",
]
