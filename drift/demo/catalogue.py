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


# --- governance: what the team set up before the story, and what they wrote during it ----------------

# Emails go to the console backend in the embedded mode (SMTP when EMAIL_HOST is set).
ALERT_CHANNEL: dict[str, Any] = {
    "name": "Credit-risk on-call (email)",
    "kind": "email",
    "target": "credit-risk-oncall@driftwatch.example",
    "min_severity": "warning",
}
ESCALATE_AFTER_MINUTES = 30  # an incident nobody has acknowledged by then pages the on-call again

POLICY_SHIFT = "Population shift"
POLICY_QUALITY = "Accuracy and input quality"
POLICY_SERVICE = "Scoring service health"

POLICIES: tuple[dict[str, Any], ...] = (
    {
        "name": POLICY_SHIFT,
        "reason": "Model risk standard MRM-7: when the applicant population changes, automated credit "
        "decisions go to human review until the model owner has assessed the change.",
        "rules": [
            {
                "signal": "data_drift.share_drifted",
                "op": ">",
                "value": 0.2,
                "windows": 1,
                "severity": "critical",
                "description": "More than a fifth of the inputs moved away from the reference",
                "actions": [
                    {"type": "serving_mode", "mode": "human_review"},
                    {"type": "open_event"},
                    {"type": "open_incident", "severity": "SEV2"},
                    {"type": "notify"},
                    {
                        "type": "request_retraining",
                        "note": "Retrain on applications that include the new population.",
                    },
                ],
            }
        ],
    },
    {
        "name": POLICY_QUALITY,
        "reason": "Labels arrive weeks late: watch the label-free accuracy estimate, and the income feed "
        "that the strongest input comes from.",
        "rules": [
            {
                "signal": "estimated_performance.accuracy",
                "learned": True,
                "windows": 2,
                "severity": "warning",
                "description": "Estimated accuracy degraded for two days running",
                "actions": [{"type": "open_event"}, {"type": "notify"}],
            },
            {
                "signal": "data_drift.feature.income",
                "learned": True,
                "severity": "warning",
                "description": "Income, the strongest input, moved away from the reference",
                "actions": [{"type": "open_event"}, {"type": "notify"}],
            },
            {
                "signal": "data_quality.missing.income",
                "op": ">",
                "value": 0.01,
                "severity": "warning",
                "description": "More than 1 % of applications arrive without an income",
                "actions": [{"type": "open_event"}, {"type": "notify"}],
            },
        ],
    },
    {
        "name": POLICY_SERVICE,
        "reason": "Failed scoring requests are referred to underwriters by hand: a day with more of them "
        "than usual is worth a look.",
        "rules": [
            {
                "signal": "operations.error_rate",
                "learned": True,
                "severity": "warning",
                "description": "Scoring requests failed more often than usual",
                "actions": [{"type": "open_event"}, {"type": "notify"}],
            }
        ],
    },
)

# What the analyst and the incident commander write while they work the shift.
SHIFT_ACK_NOTE = (
    "On it. Thirteen of fourteen inputs moved on the same day: that looks like a new population, not a "
    "broken feed."
)
SHIFT_SUSPECTED_CAUSE = (
    f"Pipeline {PIPELINE_AFTER} (deployed at midnight on the day the shift starts) added the "
    f"'{NEW_CHANNEL}' channel. Partner applicants are mostly new customers with lower incomes, higher "
    "debt-to-income and shorter credit histories, and their incomes are self-declared: the partner "
    "gateway does not verify payslips."
)
SHIFT_FINDINGS = (
    f"Compared {NEW_CHANNEL} with the direct channels: the drift is confined to partner applications "
    "(about a fifth of the traffic); direct applications match the reference. Early outcomes suggest "
    "partner customers default more often than their scores say."
)
SHIFT_ACTIONS = (
    f"Partner ({NEW_CHANNEL}) applications are referred to manual underwriting before any decision "
    f"(pipeline {PIPELINE_AFTER}-hotfix1); the partner gateway was asked to send verified income; "
    "retraining on applications that include partner customers is requested."
)
SHIFT_RESULTS = (
    "Direct-channel decisions are automatic again and match the reference; partner applications are "
    "decided by underwriters until a retrained version is validated on partner outcomes."
)
GATE_NORMAL_REASON = (
    f"Partner ({NEW_CHANNEL}) applications are underwritten by people before any decision, so the "
    "model's automatic decisions now cover the direct channels only, whose inputs match the reference. "
    "The population-shift event stays open (mitigated) until a retrained version is in production."
)
ACCURACY_CAUSE = (
    "Same cause as the population-shift event: the label-free estimate falls with the share of partner "
    "applicants, whose scores sit nearer the decision threshold."
)
INCOME_CAUSE = (
    "The income-verification join timed out for a day: about 3 % of applications arrived with income "
    "null and a few with text where the number belongs."
)
INCOME_ACTIONS = "Join fixed and re-run by the data engineering on-call; the day's records are flagged."

# The runbook the analyst writes with the policies; 'Population shift' links it, so its incident does too.
RUNBOOK: dict[str, str] = {
    "slug": "credit-risk-population-shift",
    "title": "Credit risk: the applicant population changed",
    "policy": POLICY_SHIFT,
    "reason": "Model risk standard MRM-7 asks for a written response to a population change.",
    "body": "When more than a fifth of the inputs move away from the reference, the policy has already "
    "sent automated decisions to **human review**. Underwriters decide every application until the "
    "model owner has assessed the change.\n\n"
    "## First hour\n"
    "1. Acknowledge the event and take command of the incident; name a scribe.\n"
    "2. Tell the underwriting lead that every application now needs a person (expect 3-4x the queue).\n"
    "3. Open the event's snapshot: which inputs moved, and by how much.\n\n"
    "## Find the cause\n"
    "- Read the model page's narrative: a new category, a segment that grew, a feed that broke.\n"
    "- Check the day's releases (pipeline version on the model page) and any channel onboarding.\n"
    "- A broken feed (nulls, text in numbers) is a data incident: fix the feed, re-run the day.\n"
    "- A new population is real: decide which applications the model may still decide alone.\n\n"
    "## Mitigate, then return to normal\n"
    "- Route the changed population to underwriters at the gateway; keep the rest automatic.\n"
    "- Return the serving mode to normal **with a reason** once the automatic decisions cover inputs "
    "that match the reference.\n"
    "- Ask for retraining on data that includes the new population; keep the event open (mitigated) "
    "until that version is in production.\n"
    "- Write the postmortem within a week.",
}

# What the underwriter flags while the shift is worked (drift.demo.frontline).
FLAG_PARTNER_CHANNEL = (
    f"Applications from the new {NEW_CHANNEL} channel come with self-declared incomes and no payslips; "
    "several look high for the applicant's job. We cannot check them the way we check branch and web "
    "applications."
)
FLAG_PARTNER_APPLICATION = (
    "Decided automatically on a self-declared income from the partner gateway. I would have asked for "
    "payslips before approving."
)
FLAG_THIN_FILES = (
    "New customers with under two years of credit history: since the partner channel opened, their "
    "scores look low to me for how little we know about them."
)
FLAG_TASK_TITLE = "Verify partner incomes before the model decides"

# The drill the team runs on a quiet day: a known change to income, to rehearse the income rule.
DRILL: dict[str, Any] = {
    "scenario": "mean_shift",
    "rows": 600,
    "seed": 20_260_101,
    "cause": "Drill: income was shifted on purpose by half a standard deviation.",
    "actions": "Checked the event's snapshot and the drill's gate; the on-call email arrived at once.",
    "note": "Quarterly game day: rehearsed the income rule and the on-call path. Next time: drill the "
    "population-shift policy with a new channel.",
}

POSTMORTEM: dict[str, str] = {
    "title": f"The {NEW_CHANNEL} channel went live without a population review",
    "summary": f"Pipeline {PIPELINE_AFTER} onboarded the {NEW_CHANNEL} channel at midnight on the shift "
    "day. Its applicants were a different population (mostly new customers, lower and self-declared "
    "incomes, higher debt-to-income, shorter histories) and the model under-estimated their risk. The "
    "population-shift policy moved automated decisions to human review on the first window.",
    "impact_notes": "About a fifth of applications came from the new channel. While human review was on, "
    "underwriters decided every application; afterwards partner applications stayed with them.",
    "trigger": f"Release of pipeline {PIPELINE_AFTER}, which added the {NEW_CHANNEL} channel.",
    "root_cause": "Onboarding a new channel was treated as a software release, not as a change of the "
    "population the model was trained on; nobody asked the model owner, and the partner gateway passes "
    "incomes through unverified.",
    "detection": "The first daily analysis after the release (00:15 the next day) flagged 13 of 14 inputs; "
    "the policy tripped the gate, opened the event and the incident and emailed the on-call. The incident "
    "escalated after 30 minutes because nobody acknowledged it at night.",
    "resolution": "Partner applications go to manual underwriting; the gate is back to normal for the "
    "direct channels, whose inputs match the reference. A retrained version is requested.",
    "mitigation": "Human review by policy within minutes of the first window; partner applications "
    "routed to underwriters two days later.",
    "went_well": "Detection on the first window; the snapshot on the event showed which inputs moved "
    "and by how much; the narrative pointed at new customers and the new channel.",
    "went_badly": "The release notes did not mention the new channel; the night-time page went "
    "unacknowledged for hours.",
    "lucky": "The shift began on a weekday, when underwriters could absorb the extra reviews.",
}
POSTMORTEM_ACTIONS: tuple[tuple[str, str, int], ...] = (
    # (title, owner's role, due in days after publishing)
    ("Add a model-owner sign-off to channel onboarding in the release checklist", "admin", 14),
    ("Verify partner incomes at the gateway (payslip or open-banking check)", "admin", 30),
    ("Retrain on applications that include partner customers, validate on their outcomes", "analyst", 45),
)
