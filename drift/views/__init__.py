"""HTML pages: short function views over `drift.page_selectors`, charts from `drift.charts`."""

from drift.views.feature import feature_detail, feature_table_csv
from drift.views.model import model_detail, model_reanalyse, model_table_csv
from drift.views.portfolio import portfolio_csv, portfolio_page
from drift.views.predictions import prediction_page, predictions_list

__all__ = [
    "feature_detail",
    "feature_table_csv",
    "model_detail",
    "model_reanalyse",
    "model_table_csv",
    "portfolio_csv",
    "portfolio_page",
    "prediction_page",
    "predictions_list",
]
