"""The demo story: the pure generator without a database, then a small seed through the services."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest

from drift.demo import catalogue as cat
from drift.demo.story import DAY, Story, StoryConfig, generate
from drift.demo.timeline import record_ids, timeline

END = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
TINY = StoryConfig.scaled(10, per_day=60, reference_rows=200)


@pytest.fixture(scope="module")
def story() -> Story:
    return generate(TINY, end=END)


@pytest.fixture(scope="module")
def month() -> Story:
    """Big enough to measure the shift: ~90,000 applications, ~18,000 after it."""
    return generate(StoryConfig.scaled(30, per_day=2_500, reference_rows=100), end=END)


# --- the pure generator ---------------------------------------------------------------------------------


def test_the_same_seed_tells_the_same_story(story):
    again = generate(TINY, end=END)

    p, q = story.predictions, again.predictions
    assert np.array_equal(p.ts, q.ts) and np.array_equal(p.score, q.score, equal_nan=True)
    assert np.array_equal(p.features["income"], q.features["income"])
    assert np.array_equal(p.label, q.label) and p.defects == q.defects
    assert np.array_equal(story.references["v2"].score, again.references["v2"].score)
    assert np.array_equal(story.health.cpu, again.health.cpu)


def test_another_seed_tells_another_story(story):
    other = generate(StoryConfig.scaled(10, per_day=60, reference_rows=200, seed=8), end=END)

    assert not np.array_equal(
        story.predictions.features["income"][:50], other.predictions.features["income"][:50]
    )


def test_the_story_ends_at_the_end_and_starts_at_midnight_days_earlier(story):
    p = story.predictions

    assert story.start == int(datetime(2026, 11, 11, tzinfo=UTC).timestamp())
    assert p.ts.min() >= story.start and p.ts.max() <= story.end == int(END.timestamp())
    assert np.all(np.diff(p.ts) >= 0)
    assert len(set(record_ids(story).tolist())) == p.size


def test_the_partner_shift_has_the_configured_size(month):
    p, cfg = month.predictions, month.config
    f = p.features
    new = f["customer_segment"] == "new"
    partner = f["channel"] == cat.NEW_CHANNEL
    direct_new = new & ~partner

    income_ratio = np.median(f["income"][partner & new]) / np.median(f["income"][direct_new])
    dti_shift = f["debt_to_income"][partner & new].mean() - f["debt_to_income"][direct_new].mean()
    assert income_ratio == pytest.approx(cfg.income_factor, abs=0.03)
    assert dti_shift == pytest.approx(cfg.dti_shift, abs=0.01)
    after = p.day >= cfg.shift_day
    assert partner[after].mean() == pytest.approx(cfg.partner_share, abs=0.02)
    assert (partner & new).sum() / partner.sum() == pytest.approx(cfg.partner_new_share, abs=0.02)


def test_the_partner_channel_defaults_more_than_the_model_predicts(month):
    p = month.predictions
    partner = (p.features["channel"] == cat.NEW_CHANNEL) & ~p.error
    direct = (p.day >= month.config.shift_day) & ~partner & ~p.error

    assert p.label[partner].mean() > 1.3 * np.mean(p.score[partner])  # concept drift: under-predicted
    assert p.label[direct].mean() == pytest.approx(np.mean(p.score[direct]), abs=0.01)  # still calibrated


def test_the_partner_channel_and_the_new_pipeline_start_on_the_shift_day(story):
    p, cfg = story.predictions, story.config
    shift = story.time(cfg.shift_day)

    assert cfg.shift_day == 7
    assert set(p.features["channel"][p.ts < shift].tolist()) == set(cat.CHANNELS)
    assert cat.NEW_CHANNEL in set(p.features["channel"][p.ts >= shift].tolist())
    assert set(p.pipeline_version[p.ts < shift].tolist()) == {cat.PIPELINE_BEFORE}
    assert set(p.pipeline_version[p.ts >= shift].tolist()) == {cat.PIPELINE_AFTER}


def test_labels_arrive_within_the_configured_delay_and_before_the_end(story):
    p = story.predictions
    lo, hi = story.config.label_delay_days
    waited = (p.label_arrival - p.ts)[p.has_outcome] / DAY

    assert waited.min() >= lo and p.label_arrival[p.has_outcome].max() <= story.end
    assert not p.has_outcome[p.error].any()
    old_enough = (p.ts < story.end - (hi + 1) * DAY) & ~p.error
    refused = [d.index for d in p.defects if d.kind == "wrong_type"]
    old_enough[refused] = False
    assert old_enough.any() and p.has_outcome[old_enough].all()
    assert not p.has_outcome[p.ts > story.end - lo * DAY].any()


def test_versions_take_traffic_by_stage(story):
    p, cfg = story.predictions, story.config
    canary, promoted = story.time(cfg.canary_day, 9), story.time(cfg.promote_day, 10)

    assert set(p.version[p.ts < canary].tolist()) == {"v1"}
    assert set(p.version[(p.ts >= canary) & (p.ts < promoted)].tolist()) == {"v1", "v2"}
    assert set(p.version[p.ts >= promoted].tolist()) == {"v2"}


def test_the_scaled_story_keeps_its_milestones_in_order():
    for days in (7, 10, 30, 90, 180):
        cfg = StoryConfig.scaled(days)
        assert 0 < cfg.v2_shadow_day <= cfg.canary_day < cfg.promote_day < cfg.shift_day < days, days
        assert all(0 < i.day < days for i in cfg.incidents)


def test_defects_are_a_handful_of_each_kind(story):
    kinds = [d.kind for d in story.predictions.defects]

    assert {"null", "out_of_range", "undeclared_category", "wrong_type"} <= set(kinds)
    assert len(kinds) < 0.1 * story.predictions.size


def test_incidents_slow_answers_and_raise_errors(month):
    p, inc = month.predictions, month.config.incidents[1]
    start = month.time(inc.day, inc.start_hour)
    window = (p.ts >= start) & (p.ts < start + inc.hours * 3600)

    assert p.error[window].mean() > 10 * p.error[~window].mean()
    assert np.median(p.latency_ms[window]) > 2 * np.median(p.latency_ms[~window])
    h = month.health
    in_hours = (h.hour >= start) & (h.hour < start + inc.hours * 3600)
    assert h.queue_depth[in_hours].min() >= inc.queue_depth > h.queue_depth[~in_hours].max()


def test_the_timeline_sends_outcomes_after_their_predictions_in_bounded_batches(story):
    steps = timeline(story, batch_size=40)

    assert [s.clock for s in steps] == sorted(s.clock for s in steps)
    sent: set[int] = set()
    for step in steps:
        assert len(step.rows) <= 40
        if step.kind == "predictions":
            assert step.clock >= story.predictions.ts[step.rows].max()
            sent.update(step.rows.tolist())
        elif step.kind == "outcomes":
            assert sent.issuperset(step.rows.tolist())
    assert len(sent) == story.predictions.size


def test_the_decision_threshold_is_the_break_even_of_the_business_values():
    p = cat.DECISION_THRESHOLD
    refuse = p * cat.VALUE_TP + (1 - p) * cat.VALUE_FP
    approve = p * cat.VALUE_FN + (1 - p) * cat.VALUE_TN
    assert refuse == pytest.approx(approve)


def test_v2_ranks_better_than_v1_on_its_reference():
    big = generate(StoryConfig.scaled(10, per_day=10, reference_rows=20_000), end=END)

    def auc(score: np.ndarray, label: np.ndarray) -> float:
        ranks = np.argsort(np.argsort(score)) + 1
        pos = label.sum()
        return float((ranks[label == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(label) - pos)))

    v1, v2 = big.references["v1"], big.references["v2"]
    assert auc(v2.score, v2.label) > auc(v1.score, v1.label) + 0.005
    assert 0.05 < v2.label.mean() < 0.08


# --- seeded through the services -------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    from django.utils import timezone

    from drift.demo.seed import replay

    story = generate(TINY, end=timezone.now())
    return story, replay(story, progress=False)


def test_the_seed_registers_the_model_its_versions_and_their_references(seeded):
    from drift.models import MonitoredModel

    story, _ = seeded
    model = MonitoredModel.objects.get(slug=cat.SLUG)
    assert (model.owner, model.currency, model.value_tp, model.value_fn) == (
        "Retail Credit Risk team",
        "EUR",
        2_400,
        -2_400,
    )
    v1, v2 = model.versions.order_by("version")
    assert (v1.stage, v2.stage) == ("archived", "production")
    history = [(c.from_stage, c.to_stage) for c in v2.stage_history.all()]
    assert history == [("", "shadow"), ("shadow", "canary"), ("canary", "production")]
    assert v1.stage_history.last().reason == "replaced by v2"
    assert v2.stage_history.last().changed_at.timestamp() == story.time(story.config.promote_day, 10)
    names = {v.version: set(v.features.values_list("name", flat=True)) for v in (v1, v2)}
    assert names["v2"] - names["v1"] == {"utilisation"}
    features = {f.name: f for f in v2.features.all()}
    assert (features["customer_segment"].role, features["age_band"].role) == ("segment", "sensitive")
    assert (features["customer_id"].pii, features["email"].pii) == ("hash", "drop")
    assert all(f.source and f.transformation for f in features.values())
    assert (v1.reference.row_count, v2.reference.row_count) == (200, 200)
    assert v2.reference.has_labels and v2.reference.has_scores


def test_every_prediction_sent_is_stored_once(seeded):
    from django.db.models import Sum

    from drift.models import IngestionBatch, PredictionLog

    story, report = seeded
    refused = sum(1 for d in story.predictions.defects if d.kind == "wrong_type")
    stored = PredictionLog.objects.all()
    assert report.predictions_sent == story.predictions.size
    assert stored.count() == report.accepted == story.predictions.size - refused
    assert report.rejected == refused > 0
    batches = IngestionBatch.objects.filter(kind="predictions")
    assert batches.aggregate(n=Sum("accepted"))["n"] == stored.count()
    row = stored.exclude(status="error").first()
    assert "email" not in row.features and row.features["customer_id"].isalnum()
    assert not row.features["customer_id"].startswith("C")  # hashed
    assert row.lineage["pipeline_version"] in (cat.PIPELINE_BEFORE, cat.PIPELINE_AFTER)
    assert stored.filter(attributions__isnull=False).exists()


def test_outcomes_exist_only_for_predictions_old_enough(seeded):
    from drift.models import Outcome, PredictionLog

    story, report = seeded
    lo, _ = story.config.label_delay_days
    outcomes = Outcome.objects.select_related("prediction")
    assert outcomes.count() == report.outcomes_accepted == story.predictions.has_outcome.sum() > 0
    assert all(o.observed_at - o.prediction.timestamp >= timedelta(days=lo) for o in outcomes)
    recent = datetime.fromtimestamp(story.end - lo * DAY, UTC)
    assert PredictionLog.objects.filter(timestamp__gt=recent).exists()
    assert not outcomes.filter(prediction__timestamp__gt=recent).exists()
    assert not outcomes.filter(prediction__status="error").exists()


def test_the_shift_shows_in_the_stored_predictions(seeded):
    from drift.models import PredictionLog

    story, _ = seeded
    shift = datetime.fromtimestamp(story.time(story.config.shift_day), UTC)
    before = PredictionLog.objects.filter(timestamp__lt=shift)
    partner = PredictionLog.objects.filter(features__channel=cat.NEW_CHANNEL)

    assert partner.exists() and not partner.filter(timestamp__lt=shift).exists()
    assert all(p.value_issues["channel"] == "undeclared_category" for p in partner)
    incomes = [p.features["income"] for p in before if isinstance(p.features.get("income"), int)]
    assert np.mean([p.features["income"] for p in partner]) < 0.85 * np.mean(incomes)
    assert {p.lineage["pipeline_version"] for p in partner} == {cat.PIPELINE_AFTER}
    assert {p.lineage["pipeline_version"] for p in before} == {cat.PIPELINE_BEFORE}


def test_bad_values_refusals_and_health_are_recorded(seeded):
    from drift.models import HealthSample, IngestionBatch, PredictionLog

    story, report = seeded
    issues = set()
    for found in PredictionLog.objects.exclude(value_issues=None).values_list("value_issues", flat=True):
        issues.update(found.values())
    assert {"null_not_allowed", "out_of_range", "undeclared_category"} <= issues
    refusal = IngestionBatch.objects.get(kind="predictions", partial=False, rejected__gt=0)
    assert (
        refusal.accepted == 0
        and IngestionBatch.objects.filter(partial=True, rejected=refusal.rejected).exists()
    )
    assert HealthSample.objects.count() == report.health_samples == len(story.health.hour)
    inc = story.config.incidents[0]
    spike = datetime.fromtimestamp(story.time(inc.day, inc.start_hour), UTC)
    assert HealthSample.objects.get(timestamp=spike).queue_depth >= inc.queue_depth


def test_the_cast_has_one_user_per_role_and_working_credentials(seeded):
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from drift.roles import user_role
    from drift.services.keys import integration_key_authenticate

    _, report = seeded
    for spec in cat.USERS:
        user = User.objects.get(username=spec["username"])
        assert user_role(user) == spec["role"]
        assert user.groups.filter(name=spec["role"]).exists()
        assert user.check_password(cat.demo_password(user.username))
    assert User.objects.get(username="admin").is_superuser and User.objects.get(username="admin").is_staff
    analyst = User.objects.get(username="analyst")
    assert analyst.is_staff and not analyst.is_superuser and Token.objects.filter(user=analyst).exists()
    assert not User.objects.get(username="exec").is_staff
    key = integration_key_authenticate(key=report.integration_key)
    assert key is not None and key.model.slug == cat.SLUG


# --- the command ---------------------------------------------------------------------------------------


def seed_demo(*args: str) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command(
        "seed_demo",
        "--days",
        "10",
        "--per-day",
        "30",
        "--reference-rows",
        "50",
        "--force",
        *args,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def test_running_the_command_twice_adds_nothing(db):
    from django.contrib.auth.models import User

    from drift.models import (
        HealthSample,
        IntegrationKey,
        ModelVersion,
        MonitoredModel,
        Outcome,
        PredictionLog,
    )

    def counts() -> list[int]:
        tables = (MonitoredModel, ModelVersion, PredictionLog, Outcome, HealthSample, IntegrationKey, User)
        return [t.objects.count() for t in tables]

    first = seed_demo()
    seeded = counts()
    second = seed_demo()

    assert counts() == seeded and seeded[2] > 0
    assert "already seeded" in second and "already seeded" not in first
    assert "daily runs over 9 days" in first and "3 policies" in first
    key = re.search(r"dwi_[\w-]{40,}", first)
    assert key and "password analyst-demo" in first and "curl" in first
    assert "password analyst-demo" in second and key.group() not in second  # a key is shown once


def test_reset_wipes_the_demo_and_seeds_it_again(db):
    from drift.models import IntegrationKey, ModelVersion, MonitoredModel, PredictionLog

    seed_demo("--quiet", "--telemetry-only")
    old_key = IntegrationKey.objects.get().pk
    out = seed_demo("--reset", "--quiet", "--telemetry-only")

    assert "Deleted the demo model" in out
    assert (MonitoredModel.objects.count(), ModelVersion.objects.count()) == (1, 2)
    assert list(IntegrationKey.objects.values_list("pk", flat=True)) != [old_key]
    assert PredictionLog.objects.count() == len(
        set(PredictionLog.objects.values_list("record_id", flat=True))
    )


def test_reset_after_the_whole_story_writes_its_runbook_again(db):
    from governance.models import Incident, Runbook

    seed_demo("--quiet")
    seed_demo("--reset", "--quiet")

    # The old runbook went with the old model: its slug is free, and exactly one is linked again.
    runbook = Runbook.objects.get()
    assert runbook.slug == cat.RUNBOOK["slug"] and runbook.model.slug == cat.SLUG
    assert runbook.policies.get().name == cat.POLICY_SHIFT
    assert all(i.runbook == runbook for i in Incident.objects.all())


def test_the_command_refuses_to_seed_known_passwords_without_debug(db, settings):
    from django.core.management import CommandError, call_command

    from drift.models import MonitoredModel

    settings.DEBUG = False
    with pytest.raises(CommandError, match="known passwords"):
        call_command("seed_demo", "--days", "10", "--per-day", "10", stdout=StringIO())
    assert not MonitoredModel.objects.exists()


def test_a_seed_that_fails_halfway_leaves_nothing_behind(db, monkeypatch):
    from django.utils import timezone

    from drift.demo import seed
    from drift.models import MonitoredModel, PredictionLog

    def broken(*args, **kwargs):
        raise RuntimeError("the outcomes feed is down")

    monkeypatch.setattr(seed, "send_outcomes", broken)
    with pytest.raises(RuntimeError):
        seed.replay(generate(TINY, end=timezone.now()), progress=False)

    assert not MonitoredModel.objects.exists() and not PredictionLog.objects.exists()
