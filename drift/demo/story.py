"""Ninety days in the life of a consumer credit-risk model, generated with numpy alone (no Django).

What happens, in days of the default story (``StoryConfig.scaled(days)`` moves every day with the length):

- day 0 … 89: applications arrive with a diurnal and weekly rhythm (~2,500 a day), are scored by a fixed
  logistic model and refused when the score passes the break-even threshold (catalogue.DECISION_THRESHOLD);
  labels (default within 12 months, known early from missed instalments) arrive 14-35 days later;
- day 35: v2 (adds the bureau's revolving `utilisation`) is registered in shadow; day 38 09:00 it takes a
  10 % canary; day 45 10:00 it is promoted to production and v1 archived;
- day 23 and day 71: operational incidents (latency x6; then errors at 15 % and a telemetry backlog
  delivered 60 hours late, so flagged late);
- day 52: a broken join nulls `income` in 3 % of the day's records, and a handful of records carry text
  where a number belongs (refused); two dozen stray bad values are spread over the window;
- day 60 00:00: pipeline 2.5.0 onboards the `partner_api` channel (a category no schema declares). Its
  applicants are mostly new customers with lower income, higher debt-to-income, higher utilisation and
  shorter histories (data drift), and they default more than their features say (concept drift: their
  income is self-declared and overstated by ~25 %, and new partner customers carry +0.3 on the true
  log-odds): they default at ~22 % where the model predicts ~15 %, and it ranks them worse.

Everything is drawn from one seed, each part from its own child stream, so changing the reference size
does not change the predictions.

Example:
    >>> from datetime import UTC, datetime
    >>> cfg = StoryConfig.scaled(10, per_day=50, reference_rows=100)
    >>> story = generate(cfg, end=datetime(2025, 3, 31, 18, 30, tzinfo=UTC))
    >>> (cfg.shift_day, len(story.references["v2"].score), story.predictions.size > 300)
    (7, 100, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drift.demo import catalogue as cat
from drift.demo.population import MODELS, TRUE_INTERCEPT, TRUE_WEIGHTS, applicants, logit, sigmoid, terms

DAY = 86_400
HOUR = 3_600

# Relative volume by hour of day (UTC) and by weekday (Monday first); each averages 1.
_HOURLY = np.array(
    [
        0.15,
        0.1,
        0.08,
        0.07,
        0.08,
        0.15,
        0.35,
        0.7,
        1.1,
        1.5,
        1.7,
        1.75,
        1.6,
        1.55,
        1.5,
        1.45,
        1.4,
        1.35,
        1.4,
        1.55,
        1.6,
        1.3,
        0.8,
        0.4,
    ]
)
_HOURLY = _HOURLY / _HOURLY.mean()
_WEEKDAY = np.array([1.08, 1.1, 1.06, 1.04, 1.0, 0.7, 0.52])
_WEEKDAY = _WEEKDAY / _WEEKDAY.mean()


@dataclass(frozen=True)
class Incident:
    """An operational bad spell: slower answers, more errors, a queue; optionally a telemetry backlog."""

    day: int
    start_hour: int
    hours: int
    latency_factor: float
    error_share: float
    queue_depth: int
    backlog_hours: float = 0.0  # records of the window are delivered this much later (0: on time)
    what: str = ""
    fix: str = ""  # what the on-call did about it (the governance story writes it on the event)


DEFAULT_INCIDENTS = (
    Incident(
        day=23,
        start_hour=9,
        hours=5,
        latency_factor=6.0,
        error_share=0.04,
        queue_depth=350,
        what="Noisy neighbour on the scoring cluster: CPU starved, latency x6, 4 % errors.",
        fix="The platform on-call moved the scoring pods to a dedicated node pool.",
    ),
    Incident(
        day=71,
        start_hour=13,
        hours=4,
        latency_factor=2.5,
        error_share=0.15,
        queue_depth=1_500,
        backlog_hours=60.0,
        what="Feature-store timeouts: 15 % errors; the telemetry exporter stalled and delivered the "
        "afternoon's records 60 hours late.",
        fix="Feature-store client timeout raised from 80 to 250 ms; the telemetry exporter restarted and "
        "its backlog re-sent.",
    ),
)


@dataclass(frozen=True)
class StoryConfig:
    days: int = 90
    per_day: float = 2_500.0  # mean applications per day before the partner channel adds its own
    seed: int = 7
    reference_rows: int = 20_000  # per version
    v2_shadow_day: int = 35
    canary_day: int = 38
    promote_day: int = 45
    canary_share: float = 0.10
    shift_day: int = 60
    partner_share: float = 0.22  # share of traffic from partner_api after the shift
    partner_new_share: float = 0.85  # partner applicants who are new customers
    income_factor: float = 0.88  # partner applicants' declared income relative to direct applicants
    dti_shift: float = 0.04  # added to partner applicants' debt_to_income
    utilisation_shift: float = 0.05
    history_factor: float = 0.75  # partner applicants' credit history relative to direct ones
    # Concept drift: partner income is self-declared and unverified, on average this much above the
    # real income (log-normal spread 0.35), and new partner customers carry extra risk on the log-odds.
    income_overstatement: float = 1.25
    concept_shift: float = 0.3
    incidents: tuple[Incident, ...] = DEFAULT_INCIDENTS
    bad_day: int = 52
    bad_day_null_share: float = 0.03
    wrong_type_records: int = 4
    stray_defects: int = 24
    label_delay_days: tuple[float, float] = (14.0, 35.0)
    attribution_share: float = 0.10
    repeat_customers: int = 60_000

    @classmethod
    def scaled(cls, days: int, **overrides: Any) -> StoryConfig:
        """The default story squeezed or stretched to `days`: every milestone keeps its place."""
        base = cls()
        factor = days / base.days

        def at(day: int) -> int:
            return min(days - 1, max(1, round(day * factor)))

        lo, hi = base.label_delay_days
        scaled = replace(
            base,
            days=days,
            v2_shadow_day=at(base.v2_shadow_day),
            canary_day=at(base.canary_day),
            promote_day=at(base.promote_day),
            shift_day=at(base.shift_day),
            bad_day=at(base.bad_day),
            incidents=tuple(replace(i, day=at(i.day)) for i in base.incidents),
            label_delay_days=(lo * factor, hi * factor),
        )
        return replace(scaled, **overrides)

    def per_day_for(self, total: int) -> float:
        """The `per_day` that yields about `total` predictions, counting the partner channel's extra."""
        after = self.days - self.shift_day
        return total / (self.shift_day + after / (1 - self.partner_share))


@dataclass(frozen=True)
class Milestone:
    time: int  # epoch seconds
    kind: str  # "stage" (a registry change the seed performs) or "note" (context for people)
    text: str
    version: str = ""
    stage: str = ""


@dataclass(frozen=True)
class Defect:
    """A value deliberately spoilt in the record as sent (the model scored the clean value)."""

    index: int
    feature: str
    value: Any
    kind: str  # null | out_of_range | undeclared_category | wrong_type


@dataclass(frozen=True)
class Predictions:
    """One row per application, in time order. Categoricals are str arrays; `score` is NaN on errors."""

    ts: NDArray[np.int64]
    delivered: NDArray[np.int64]
    day: NDArray[np.int64]
    version: NDArray[np.str_]
    features: dict[str, NDArray[Any]]
    score: NDArray[np.float64]
    prediction: NDArray[np.int64]
    p_true: NDArray[np.float64]
    label: NDArray[np.int64]
    has_outcome: NDArray[np.bool_]
    label_arrival: NDArray[np.int64]
    error: NDArray[np.bool_]
    latency_ms: NDArray[np.float64]
    pipeline_version: NDArray[np.str_]
    source: NDArray[np.str_]
    has_attributions: NDArray[np.bool_]
    attributions: dict[str, NDArray[np.float64]]
    defects: tuple[Defect, ...]

    @property
    def size(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class Reference:
    features: dict[str, NDArray[Any]]
    score: NDArray[np.float64]
    prediction: NDArray[np.int64]
    label: NDArray[np.int64]


@dataclass(frozen=True)
class Health:
    hour: NDArray[np.int64]  # start of the hour the sample summarises (epoch seconds)
    request_count: NDArray[np.int64]
    error_count: NDArray[np.int64]
    queue_depth: NDArray[np.int64]
    cpu: NDArray[np.float64]
    memory: NDArray[np.float64]


@dataclass(frozen=True)
class Story:
    config: StoryConfig
    start: int  # midnight UTC of day 0, epoch seconds
    end: int  # nothing happens after this moment
    predictions: Predictions
    references: dict[str, Reference]
    health: Health
    milestones: tuple[Milestone, ...] = field(default_factory=tuple)

    def time(self, day: int, hour: float = 0) -> int:
        return self.start + day * DAY + int(hour * HOUR)


def _reference(rng: np.random.Generator, cfg: StoryConfig, version: str) -> Reference:
    pop = applicants(rng, np.zeros(cfg.reference_rows, dtype=bool), cfg, first_new_customer=5_000_000)
    inputs = terms(pop)
    score = sigmoid(logit(inputs, *MODELS[version]))
    label = (rng.random(cfg.reference_rows) < sigmoid(logit(inputs, TRUE_INTERCEPT, TRUE_WEIGHTS))).astype(
        np.int64
    )
    return Reference(
        pop.features, np.round(score, 5), (score >= cat.DECISION_THRESHOLD).astype(np.int64), label
    )


# --- the ninety days ---------------------------------------------------------------------------------


def _milestones(cfg: StoryConfig, start: int) -> tuple[Milestone, ...]:
    def t(day: int, hour: float) -> int:
        return start + day * DAY + int(hour * HOUR)

    notes = [
        Milestone(t(cfg.v2_shadow_day, 8), "stage", cat.REASON_V2_SHADOW, "v2", "shadow"),
        Milestone(t(cfg.canary_day, 9), "stage", cat.REASON_V2_CANARY, "v2", "canary"),
        Milestone(t(cfg.promote_day, 10), "stage", cat.REASON_V2_PRODUCTION, "v2", "production"),
        Milestone(
            t(cfg.shift_day, 0),
            "note",
            f"Pipeline {cat.PIPELINE_AFTER} deployed: the partner_api channel goes live.",
        ),
        Milestone(
            t(cfg.bad_day, 0), "note", "Income-verification join broken for a day: income arrives null."
        ),
    ]
    notes += [Milestone(t(i.day, i.start_hour), "note", i.what) for i in cfg.incidents]
    return tuple(sorted(notes, key=lambda m: m.time))


def _arrivals(
    rng: np.random.Generator, cfg: StoryConfig, start: int, end: int, shift_time: int
) -> NDArray[np.int64]:
    hours = start + np.arange(cfg.days * 24, dtype=np.int64) * HOUR
    weekday = (hours // DAY + 3) % 7  # 1970-01-01 was a Thursday
    rate = cfg.per_day / 24 * _HOURLY[(hours // HOUR) % 24] * _WEEKDAY[weekday]
    # The partner channel adds its own applicants on top of the existing ones.
    rate = np.where(hours >= shift_time, rate / (1 - cfg.partner_share), rate)
    counts = rng.poisson(rate)
    ts = np.repeat(hours, counts) + rng.integers(0, HOUR, counts.sum())
    ts.sort()
    return ts[ts <= end]


def _defects(
    rng: np.random.Generator, cfg: StoryConfig, day: NDArray[np.int64], ok: NDArray[np.bool_]
) -> tuple[Defect, ...]:
    on_bad_day = np.flatnonzero((day == cfg.bad_day) & ok)
    chosen = rng.permutation(on_bad_day)
    n_null = round(len(on_bad_day) * cfg.bad_day_null_share)
    n_wrong = min(cfg.wrong_type_records, max(0, len(chosen) - n_null))
    defects = [Defect(int(i), "income", None, "null") for i in chosen[:n_null]]
    defects += [Defect(int(i), "income", "n/a", "wrong_type") for i in chosen[n_null : n_null + n_wrong]]
    stray_kinds = (
        ("age", 131, "out_of_range"),
        ("age", 16, "out_of_range"),
        ("debt_to_income", 1.35, "out_of_range"),
        ("loan_amount", 250_000, "out_of_range"),
        ("num_open_accounts", 75, "out_of_range"),
        ("region", "Nord", "undeclared_category"),
        ("employment_type", "unknown", "undeclared_category"),
        ("product", "overdraft", "undeclared_category"),
    )
    taken = set(chosen[: n_null + n_wrong].tolist())
    pool = np.setdiff1d(np.flatnonzero(ok), np.fromiter(taken, dtype=np.int64, count=len(taken)))
    for k, i in enumerate(rng.choice(pool, size=min(cfg.stray_defects, len(pool)), replace=False)):
        name, value, kind = stray_kinds[k % len(stray_kinds)]
        defects.append(Defect(int(i), name, value, kind))
    return tuple(sorted(defects, key=lambda d: d.index))


def _predictions(rng: np.random.Generator, cfg: StoryConfig, start: int, end: int) -> Predictions:
    shift_time = start + cfg.shift_day * DAY
    canary_time = start + cfg.canary_day * DAY + 9 * HOUR
    promote_time = start + cfg.promote_day * DAY + 10 * HOUR
    ts = _arrivals(rng, cfg, start, end, shift_time)
    n = len(ts)
    day = (ts - start) // DAY
    post = ts >= shift_time
    partner = post & (rng.random(n) < cfg.partner_share)
    pop = applicants(rng, partner, cfg)
    canary = (ts >= canary_time) & (ts < promote_time) & (rng.random(n) < cfg.canary_share)
    version = np.where((ts >= promote_time) | canary, "v2", "v1")

    inputs = terms(pop)
    overstated = np.where(partner, rng.lognormal(np.log(cfg.income_overstatement), 0.35, n), 1.0)
    true_logit = logit(terms(pop, pop.features["income"] / overstated), TRUE_INTERCEPT, TRUE_WEIGHTS)
    true_logit = true_logit + cfg.concept_shift * (partner & (pop.codes["customer_segment"] == 0))
    p_true = sigmoid(true_logit)
    label = (rng.random(n) < p_true).astype(np.int64)
    is_v2 = version == "v2"
    model_logit = np.where(is_v2, logit(inputs, *MODELS["v2"]), logit(inputs, *MODELS["v1"]))
    score = sigmoid(model_logit)

    # Operations: latency, errors and delivery, with the incidents on top.
    latency = rng.lognormal(np.log(np.where(is_v2, 46.0, 38.0)), 0.35)
    error_share = np.full(n, 0.002)
    delivered = ts + rng.integers(30, 300, n)
    for inc in cfg.incidents:
        lo = start + inc.day * DAY + inc.start_hour * HOUR
        window = (ts >= lo) & (ts < lo + inc.hours * HOUR)
        latency = np.where(window, latency * inc.latency_factor, latency)
        error_share = np.where(window, inc.error_share, error_share)
        delivered = np.where(window, delivered + int(inc.backlog_hours * HOUR), delivered)
    delivered = np.minimum(delivered, end)
    error = rng.random(n) < error_share
    # A failed request is referred to an underwriter (prediction 1) and has no score and no outcome.
    prediction = np.where(error | (score >= cat.DECISION_THRESHOLD), 1, 0).astype(np.int64)
    score = np.where(error, np.nan, np.round(score, 5))

    lo_days, hi_days = cfg.label_delay_days
    delay = (rng.uniform(lo_days, hi_days, n) * DAY).astype(np.int64)
    # Never on the day the prediction was delivered, so a day's outcomes always follow its predictions.
    label_arrival = np.maximum(ts + delay, (delivered // DAY + 1) * DAY + HOUR)
    defects = _defects(rng, cfg, day, ~error)
    # Refused records were never stored, so no outcome can be joined to them.
    refused = [d.index for d in defects if d.kind == "wrong_type"]
    has_outcome = ~error & (label_arrival <= end)
    has_outcome[refused] = False

    has_attr = rng.random(n) < cfg.attribution_share
    attributions: dict[str, NDArray[np.float64]] = {}
    for name in TRUE_WEIGHTS:
        w1 = MODELS["v1"][1].get(name, 0.0)
        w2 = MODELS["v2"][1].get(name, 0.0)
        attributions[name] = np.round(np.where(is_v2, w2, w1) * inputs[name], 4)

    return Predictions(
        ts=ts,
        delivered=delivered,
        day=day,
        version=version,
        features=pop.features,
        score=score,
        prediction=prediction,
        p_true=p_true,
        label=label,
        has_outcome=has_outcome,
        label_arrival=label_arrival,
        error=error,
        latency_ms=np.round(latency, 1),
        pipeline_version=np.where(post, cat.PIPELINE_AFTER, cat.PIPELINE_BEFORE),
        source=np.where(partner, cat.SOURCE_PARTNER, cat.SOURCE_DIRECT),
        has_attributions=has_attr & ~error,
        attributions=attributions,
        defects=defects,
    )


def _health(rng: np.random.Generator, cfg: StoryConfig, start: int, end: int, preds: Predictions) -> Health:
    n_hours = max(0, (end - start) // HOUR)  # complete hours only
    hour = start + np.arange(n_hours, dtype=np.int64) * HOUR
    slot = (preds.ts - start) // HOUR
    requests = np.bincount(slot, minlength=n_hours)[:n_hours]
    errors = np.bincount(slot, weights=preds.error.astype(np.float64), minlength=n_hours)[:n_hours]
    errors = errors.astype(np.int64)
    peak = float(np.percentile(requests, 99)) if n_hours else 1.0
    load = requests / max(1.0, peak)
    queue = rng.poisson(1 + 6 * load)
    cpu = 12 + 55 * load + rng.normal(0, 3, n_hours)
    # Memory creeps up until the weekly Monday-morning restart; v2 is a little heavier.
    since_restart = (hour - start - 3 * DAY - 6 * HOUR) % (7 * DAY) / HOUR
    memory = 1_100 + 1.5 * since_restart + rng.normal(0, 15, n_hours)
    memory = memory + np.where(hour >= start + cfg.promote_day * DAY + 10 * HOUR, 150, 0)
    for inc in cfg.incidents:
        lo = start + inc.day * DAY + inc.start_hour * HOUR
        window = (hour >= lo) & (hour < lo + inc.hours * HOUR)
        queue = np.where(window, inc.queue_depth + rng.integers(0, inc.queue_depth // 2 + 1, n_hours), queue)
        cpu = np.where(window, rng.uniform(92, 99.5, n_hours), cpu)
        memory = np.where(window, memory + 600, memory)
    return Health(
        hour=hour,
        request_count=requests.astype(np.int64),
        error_count=errors,
        queue_depth=queue.astype(np.int64),
        cpu=np.round(np.clip(cpu, 0, 100), 1),
        memory=np.round(memory, 0),
    )


def generate(config: StoryConfig, *, end: datetime) -> Story:
    """The story up to `end` (an aware datetime); day 0 starts at midnight UTC `days - 1` days earlier."""
    end_s = int(end.timestamp())
    start = (end_s // DAY - (config.days - 1)) * DAY
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(4)]
    preds = _predictions(streams[0], config, start, end_s)
    return Story(
        config=config,
        start=start,
        end=end_s,
        predictions=preds,
        references={v: _reference(streams[1 + k], config, v) for k, v in enumerate(("v1", "v2"))},
        health=_health(streams[3], config, start, end_s, preds),
        milestones=_milestones(config, start),
    )
