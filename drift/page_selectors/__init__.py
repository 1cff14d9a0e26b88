"""Permission-scoped reads for the HTML pages.

Pages read analysis results, feature verdicts and profiles, never raw predictions: their cost follows
the number of windows shown, not the rows behind them. Two bounded exceptions: the feature page's
lineage sample and the prediction explorer, which pages through rows by design.
"""

from drift.page_selectors.feature import FeaturePage, feature_page
from drift.page_selectors.model import ModelPage, model_page, schedule_sentence, visible_model
from drift.page_selectors.portfolio import PortfolioRow, portfolio

__all__ = [
    "FeaturePage",
    "ModelPage",
    "PortfolioRow",
    "feature_page",
    "model_page",
    "portfolio",
    "schedule_sentence",
    "visible_model",
]
