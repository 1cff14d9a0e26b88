"""The applicants and the logistic models of the demo story. Pure numpy.

The truth (`TRUE_INTERCEPT`, `TRUE_WEIGHTS`) is what the labels are drawn from; each version's model
(`MODELS`) is a fixed logistic function of the same centred, scaled terms (see `terms`).

Example:
    >>> import numpy as np
    >>> from drift.demo.story import StoryConfig
    >>> pop = applicants(np.random.default_rng(1), np.zeros(1_000, dtype=bool), StoryConfig())
    >>> sorted(set(pop.features["channel"].tolist())) == ["branch", "broker", "mobile", "web"]
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from drift.demo import catalogue as cat

if TYPE_CHECKING:
    from drift.demo.story import StoryConfig

_SEGMENT_P = np.array([0.30, 0.55, 0.15])
_AGE_MEAN = np.array([34.0, 44.0, 51.0])
_INCOME_MEDIAN = np.array([31_000.0, 40_000.0, 78_000.0])
_HISTORY_SHAPE = np.array([2.0, 4.0, 6.0])
_HISTORY_SCALE = np.array([20.0, 30.0, 30.0])
_OPEN_MEAN = np.array([2.0, 4.0, 5.0])
_UTIL_A = np.array([2.0, 2.0, 1.5])
_UTIL_B = np.array([4.5, 5.0, 6.0])
_MORTGAGE_P = np.array([0.15, 0.42, 0.65])
_REGION_P = np.array([0.22, 0.24, 0.18, 0.20, 0.16])
_EMPLOYMENT_P = np.array([0.68, 0.12, 0.08, 0.08, 0.04])
_EMPLOYMENT_P_PARTNER = np.array([0.62, 0.12, 0.16, 0.02, 0.08])
_CHANNEL_P = np.array([0.20, 0.40, 0.30, 0.10])
_PRODUCT_P = np.array([0.40, 0.25, 0.25, 0.10])
_PRODUCT_P_PARTNER = np.array([0.70, 0.0, 0.30, 0.0])
_LOAN_MEDIAN = np.array([9_000.0, 16_000.0, 3_000.0, 22_000.0])
_LOAN_SIGMA = np.array([0.6, 0.45, 0.5, 0.55])


@dataclass(frozen=True)
class Population:
    features: dict[str, NDArray[Any]]
    codes: dict[str, NDArray[np.int64]]  # category indices of employment_type, product, customer_segment


def _pick(rng: np.random.Generator, p: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    return rng.choice(len(p), size=n, p=p)


def applicants(
    rng: np.random.Generator,
    partner: NDArray[np.bool_],
    cfg: StoryConfig,
    first_new_customer: int = 1_000_000,
) -> Population:
    n = len(partner)
    partner_seg = _pick(rng, np.array([cfg.partner_new_share, 1 - cfg.partner_new_share, 0.0]), n)
    seg = np.where(partner, partner_seg, _pick(rng, _SEGMENT_P, n))
    new = seg == 0
    age = np.clip(np.rint(rng.normal(_AGE_MEAN[seg], 11.0)), 18, 85).astype(np.int64)
    income = rng.lognormal(np.log(_INCOME_MEDIAN[seg]), 0.45) * np.where(partner, cfg.income_factor, 1.0)
    employment = np.where(partner, _pick(rng, _EMPLOYMENT_P_PARTNER, n), _pick(rng, _EMPLOYMENT_P, n))
    product = np.where(partner, _pick(rng, _PRODUCT_P_PARTNER, n), _pick(rng, _PRODUCT_P, n))
    loan = np.clip(rng.lognormal(np.log(_LOAN_MEDIAN[product]), _LOAN_SIGMA[product]), 500, 100_000)
    dti = rng.beta(2.2, 6.0, n) + 0.02 * new + np.where(partner, cfg.dti_shift, 0.0)
    history = rng.gamma(_HISTORY_SHAPE[seg], _HISTORY_SCALE[seg]) * np.where(partner, cfg.history_factor, 1.0)
    history = np.minimum(history, (age - 18) * 12)
    util = rng.beta(_UTIL_A[seg], _UTIL_B[seg]) + np.where(partner, cfg.utilisation_shift, 0.0)
    channel = np.array((*cat.CHANNELS, cat.NEW_CHANNEL))[np.where(partner, 4, _pick(rng, _CHANNEL_P, n))]
    # Existing and premium customers come back; each new customer gets a fresh number.
    number = np.where(
        new, first_new_customer + np.cumsum(new), 10_000 + rng.integers(0, cfg.repeat_customers, n)
    )
    features: dict[str, NDArray[Any]] = {
        "customer_id": np.char.mod("C%08d", number),
        "email": np.char.mod("customer%d@example.com", number),
        "income": (np.rint(income / 100) * 100).astype(np.int64),
        "loan_amount": (np.rint(loan / 50) * 50).astype(np.int64),
        "debt_to_income": np.round(np.clip(dti, 0.0, 0.95), 3),
        "credit_history_months": np.rint(history).astype(np.int64),
        "num_open_accounts": rng.poisson(_OPEN_MEAN[seg]),
        "utilisation": np.round(np.clip(util, 0.0, 1.0), 3),
        "age": age,
        "region": np.array(cat.REGIONS)[_pick(rng, _REGION_P, n)],
        "employment_type": np.array(cat.EMPLOYMENT)[employment],
        "channel": channel,
        "product": np.array(cat.PRODUCTS)[product],
        "has_mortgage": rng.random(n) < _MORTGAGE_P[seg],
        "customer_segment": np.array(cat.SEGMENTS)[seg],
        "age_band": np.array(cat.AGE_BANDS)[np.digitize(age, [25, 35, 50, 65])],
    }
    return Population(features, {"employment_type": employment, "product": product, "customer_segment": seg})


# --- the logistic models ----------------------------------------------------------------------------

_EMPLOYMENT_LOGIT = np.array([0.0, 0.30, 0.45, 0.10, 0.50])
_PRODUCT_LOGIT = np.array([0.0, -0.20, 0.15, -0.30])

# Log-odds per unit of each centred, scaled term (see _terms). The truth is what the labels are drawn
# from; v2 learned it; v1 never saw `utilisation` and got the rest a little wrong.
TRUE_INTERCEPT = -3.15
TRUE_WEIGHTS = {
    "income": -0.55,
    "loan_amount": 0.25,
    "debt_to_income": 0.55,
    "credit_history_months": -0.30,
    "num_open_accounts": 0.12,
    "utilisation": 0.40,
    "age": -0.15,
    "employment_type": 1.0,
    "product": 1.0,
    "has_mortgage": -0.25,
}
MODELS: dict[str, tuple[float, dict[str, float]]] = {
    "v1": (
        -3.05,
        {
            "income": -0.60,
            "loan_amount": 0.10,
            "debt_to_income": 0.45,
            "credit_history_months": -0.15,
            "num_open_accounts": 0.30,
            "age": -0.25,
            "employment_type": 0.3,
            "product": 0.2,
            "has_mortgage": -0.30,
        },
    ),
    "v2": (TRUE_INTERCEPT, dict(TRUE_WEIGHTS)),
}


def terms(pop: Population, income: NDArray[Any] | None = None) -> dict[str, NDArray[np.float64]]:
    f = pop.features
    income = f["income"] if income is None else income
    return {
        "income": (np.log(np.maximum(income, 1)) - np.log(40_000)) / 0.5,
        "loan_amount": (np.log(f["loan_amount"]) - np.log(9_000)) / 0.7,
        "debt_to_income": (f["debt_to_income"] - 0.28) / 0.12,
        "credit_history_months": (f["credit_history_months"] - 100) / 70,
        "num_open_accounts": (f["num_open_accounts"] - 3.5) / 2,
        "utilisation": (f["utilisation"] - 0.3) / 0.18,
        "age": (f["age"] - 42) / 12,
        "employment_type": _EMPLOYMENT_LOGIT[pop.codes["employment_type"]],
        "product": _PRODUCT_LOGIT[pop.codes["product"]],
        "has_mortgage": f["has_mortgage"].astype(np.float64) - 0.35,
    }


def logit(
    terms: dict[str, NDArray[np.float64]], intercept: float, weights: dict[str, float]
) -> NDArray[np.float64]:
    return intercept + sum(w * terms[name] for name, w in weights.items())


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))
