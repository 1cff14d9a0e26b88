"""What the demo declares: the model card, its versions with their feature schemas, and the demo cast.

Pure data, no Django. The business values explain themselves, and the decision threshold follows from
them, so a later "what did drift cost" narrative can quote the same numbers:

    >>> round(DECISION_THRESHOLD, 3)
    0.127
"""

from typing import Any

SLUG = "credit-risk"
CURRENCY = "EUR"

# Money per decision, from the lender's point of view. An average approved loan exposes €6,000; when a
# borrower defaults the bank loses 40 % of it (loss given default), so €2,400. A good borrower earns
# the bank its net interest margin over the loan's life, about €350.
VALUE_TP = 2_400.0  # a future defaulter refused: the loss that did not happen
VALUE_FN = -2_400.0  # a future defaulter approved: the loss
VALUE_TN = 350.0  # a good borrower approved: the margin earned
VALUE_FP = -350.0  # a good borrower refused: the margin lost (and a customer annoyed)

# Refuse when refusing is worth more than approving: p·TP + (1-p)·FP > p·FN + (1-p)·TN.
DECISION_THRESHOLD = (VALUE_TN - VALUE_FP) / ((VALUE_TN - VALUE_FP) + (VALUE_TP - VALUE_FN))

MODEL: dict[str, Any] = {
    "slug": SLUG,
    "name": "Consumer credit risk",
    "task": "binary_classification",
    "owner": "Retail Credit Risk team",
    "positive_label": "1",
    "description": (
        "Scores every consumer loan application (personal loans, car loans, credit cards, home "
        "improvement) for the probability that the borrower defaults (90 days past due) within 12 "
        "months. Prediction 1 means 'default expected: refuse or refer'; 0 means 'approve'.\n\n"
        "Value of outcomes: the average approved loan exposes €6,000 and a default loses 40 % of it "
        "(€2,400); a good borrower earns about €350 of net interest margin. So a refused defaulter (TP) "
        "saves €2,400, an approved defaulter (FN) costs €2,400, an approved good borrower (TN) earns "
        "€350 and a refused good borrower (FP) loses that €350. Refusing pays off once the default "
        f"probability exceeds 700 / 5,500 ≈ {DECISION_THRESHOLD:.3f}, which is the decision threshold.\n\n"
        "Outcomes arrive two to five weeks after the decision: a default is known once the first "
        "instalments are missed; refused applicants are followed through the credit bureau."
    ),
    "business": {
        "kpi": "Keep the 12-month default rate of approved loans under 5 % while approving at least 80 % "
        "of applications.",
        "currency": CURRENCY,
        "value": {"tp": VALUE_TP, "fp": VALUE_FP, "tn": VALUE_TN, "fn": VALUE_FN},
    },
}

REGIONS = ("north", "south", "east", "west", "central")
EMPLOYMENT = ("employed", "self_employed", "contractor", "retired", "student")
CHANNELS = ("branch", "web", "mobile", "broker")
NEW_CHANNEL = "partner_api"  # goes live on the shift day; no schema declares it
PRODUCTS = ("personal_loan", "car_loan", "credit_card", "home_improvement")
SEGMENTS = ("new", "existing", "premium")
AGE_BANDS = ("18-24", "25-34", "35-49", "50-64", "65+")

_BUREAU = "Credit bureau report (Experian), pulled at application time"
_FORM = "Application form"

FEATURES: list[dict[str, Any]] = [
    {
        "name": "customer_id",
        "type": "categorical",
        "pii": "hash",
        "nullable": False,
        "source": "Core banking customer master",
        "transformation": "Customer number as issued, e.g. C00012345.",
        "description": "Who applied. Stored as a keyed hash: repeat applicants are counted, not identified.",
    },
    {
        "name": "email",
        "type": "categorical",
        "pii": "drop",
        "source": _FORM,
        "transformation": "As typed by the applicant.",
        "description": "Sent by the scoring service out of habit; never stored.",
    },
    {
        "name": "income",
        "type": "numeric",
        "nullable": False,
        "min": 0,
        "max": 2_000_000,
        "source": _FORM + "; verified against payslips for branch and web applications",
        "transformation": "Gross annual income in EUR, rounded to 100.",
        "description": "Lower income means less room to absorb a shock.",
    },
    {
        "name": "loan_amount",
        "type": "numeric",
        "nullable": False,
        "min": 500,
        "max": 150_000,
        "source": _FORM,
        "transformation": "Requested principal in EUR (credit cards: the requested limit).",
        "description": "Exposure at default.",
    },
    {
        "name": "debt_to_income",
        "type": "numeric",
        "nullable": False,
        "min": 0,
        "max": 1.0,
        "source": _BUREAU + " and the application form",
        "transformation": "Existing monthly debt service divided by gross monthly income, before this loan.",
        "description": "The strongest single predictor of default.",
    },
    {
        "name": "credit_history_months",
        "type": "numeric",
        "nullable": False,
        "min": 0,
        "max": 900,
        "source": _BUREAU,
        "transformation": "Months since the first credit account was opened.",
        "description": "Thin files (short histories) carry more uncertainty.",
    },
    {
        "name": "num_open_accounts",
        "type": "numeric",
        "nullable": False,
        "min": 0,
        "max": 60,
        "source": _BUREAU,
        "transformation": "Count of open credit accounts at all lenders.",
        "description": "Many open accounts can signal credit hunger.",
    },
    {
        "name": "age",
        "type": "numeric",
        "nullable": False,
        "min": 18,
        "max": 100,
        "source": _FORM + ", checked against the ID document",
        "transformation": "Whole years at application.",
        "description": "Model input; fairness is watched through age_band.",
    },
    {
        "name": "region",
        "type": "categorical",
        "nullable": False,
        "categories": list(REGIONS),
        "source": "Postcode of the home address",
        "transformation": "Postcode mapped to one of five sales regions.",
        "description": "Not a model input; kept to slice results by region.",
    },
    {
        "name": "employment_type",
        "type": "categorical",
        "nullable": False,
        "categories": list(EMPLOYMENT),
        "source": _FORM,
        "transformation": "Free-text employment status mapped to five classes.",
        "description": "Contractors and students default more often at equal income.",
    },
    {
        "name": "channel",
        "type": "categorical",
        "nullable": False,
        "categories": list(CHANNELS),
        "source": "Loan origination system",
        "transformation": "The channel the application came through.",
        "description": "Not a model input. A new channel is a new population: watch it.",
    },
    {
        "name": "product",
        "type": "categorical",
        "nullable": False,
        "categories": list(PRODUCTS),
        "source": "Loan origination system",
        "transformation": "Product code mapped to four families.",
        "description": "Car and home-improvement loans are secured or purpose-bound, cards are not.",
    },
    {
        "name": "has_mortgage",
        "type": "boolean",
        "nullable": False,
        "source": _BUREAU,
        "transformation": "True when the bureau lists an open mortgage.",
        "description": "Home owners default less often.",
    },
    {
        "name": "customer_segment",
        "type": "categorical",
        "role": "segment",
        "nullable": False,
        "categories": list(SEGMENTS),
        "source": "CRM",
        "transformation": "new: no product with us; existing: any product; premium: private banking.",
        "description": "The slice every dashboard offers first.",
    },
    {
        "name": "age_band",
        "type": "categorical",
        "role": "sensitive",
        "nullable": False,
        "categories": list(AGE_BANDS),
        "source": "Derived from age",
        "transformation": "age cut at 25, 35, 50 and 65.",
        "description": "Protected characteristic (EU consumer credit): fairness is checked across bands.",
    },
]

_UTILISATION: dict[str, Any] = {
    "name": "utilisation",
    "type": "numeric",
    "nullable": False,
    "min": 0,
    "max": 1.0,
    "source": _BUREAU + " (revolving-credit feed, added in feature set 7)",
    "transformation": "Balance of revolving accounts divided by their limits; 0 without revolving credit.",
    "description": "Added in v2: maxed-out cards precede defaults by months.",
}


def features_for(version: str) -> list[dict[str, Any]]:
    """The feature schema of a version: v2 adds `utilisation` after `num_open_accounts`."""
    if version == "v1":
        return [dict(f) for f in FEATURES]
    position = next(i for i, f in enumerate(FEATURES) if f["name"] == "num_open_accounts") + 1
    return (
        [dict(f) for f in FEATURES[:position]] + [dict(_UTILISATION)] + [dict(f) for f in FEATURES[position:]]
    )


VERSIONS: dict[str, dict[str, Any]] = {
    "v1": {
        "training_data": {
            "uri": "s3://retail-risk-ml/credit-risk/train/2023-q4.parquet",
            "digest": "sha256:5f1c0d9e3a7b",
        },
        "code_version": "credit-risk-model@4e7a21c",
        "feature_set_version": "credit-features@6",
    },
    "v2": {
        "training_data": {
            "uri": "s3://retail-risk-ml/credit-risk/train/2024-q2.parquet",
            "digest": "sha256:9b24e6f0c18d",
        },
        "code_version": "credit-risk-model@b93f0e2",
        "feature_set_version": "credit-features@7",
    },
}

# Why each stage changed; the days are the story's (see story.StoryConfig).
REASON_V2_SHADOW = "Retrained on 2024-Q2 applications with the bureau utilisation feed; shadow scoring first."
REASON_V2_CANARY = (
    "Offline evaluation passed: AUC 0.783 vs 0.768 for v1 on the 2024-Q2 hold-out; 10 % canary."
)
REASON_V2_PRODUCTION = (
    "Canary week clean: refusal rate and default-rate estimate in line with v1, p95 latency within the "
    "120 ms SLO. Approved by the Retail Credit model committee."
)

INTEGRATION_KEY_NAME = "loan-origination scoring service"
PIPELINE_BEFORE = "2.4.1"
PIPELINE_AFTER = "2.5.0"  # the release that onboarded the partner API, on the shift day
SOURCE_DIRECT = "loan-origination"
SOURCE_PARTNER = "partner-gateway"

# One person per role. Passwords are for the demo only (printed on seeding).
USERS: tuple[dict[str, Any], ...] = (
    {
        "username": "exec",
        "role": "viewer",
        "first_name": "Eva",
        "last_name": "Lindqvist",
        "title": "Head of Retail Credit",
        "staff": False,
        "superuser": False,
    },
    {
        "username": "frontline",
        "role": "frontline",
        "first_name": "Tom",
        "last_name": "Okafor",
        "title": "Underwriter",
        "staff": False,
        "superuser": False,
    },
    {
        "username": "analyst",
        "role": "analyst",
        "first_name": "Priya",
        "last_name": "Raman",
        "title": "Credit-risk data scientist",
        "staff": True,
        "superuser": False,
    },
    {
        "username": "admin",
        "role": "admin",
        "first_name": "Marco",
        "last_name": "Bianchi",
        "title": "ML platform on-call",
        "staff": True,
        "superuser": True,
    },
)


def demo_password(username: str) -> str:
    return f"{username}-demo"


# A valid v2 application, for the printed curl example.
EXAMPLE_FEATURES: dict[str, Any] = {
    "customer_id": "C00012345",
    "email": "customer12345@example.com",
    "income": 42_000,
    "loan_amount": 8_500,
    "debt_to_income": 0.27,
    "credit_history_months": 96,
    "num_open_accounts": 3,
    "utilisation": 0.31,
    "age": 38,
    "region": "west",
    "employment_type": "employed",
    "channel": "web",
    "product": "personal_loan",
    "has_mortgage": False,
    "customer_segment": "existing",
    "age_band": "35-49",
}
