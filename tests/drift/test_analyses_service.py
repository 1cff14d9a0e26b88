"""Analysis runs through the services: scenario data ingested, analysed, stored; bad input answered."""

from datetime import timedelta

import pytest

from drift.models import (
    AnalysisResult,
    AnalysisRun,
    FeatureResult,
    LabelFragment,
    LearnedThreshold,
    Outcome,
    PredictionLog,
    ProfileFragment,
    ReferenceDataset,
    RunKind,
    RunStatus,
)
from drift.profiles import ProfileSpec
from drift.scenarios import make_scenario
from drift.services.analyses import (
    STUCK_AFTER,
    analysis_execute,
    analysis_request,
    analysis_schedule_update,
)
from drift.services.analysis_dispatch import holdout_evaluate
from drift.services.labels import labels_record
from drift.services.reference import reference_upload
from drift.services.thresholds import PCA_KEY, threshold_mark_false_alarm
from monitoring_site.errors import ApplicationError
from tests.drift.analyses_support import (  # noqa: F401
    DAY,
    eager_celery,
    ingest,
    reference_rows,
    scenario_model,
)

pytestmark = pytest.mark.usefixtures("eager_celery")
WINDOW = {"window_start": DAY, "window_end": DAY + timedelta(days=1)}


def analysed(version, **window):
    run = analysis_request(model=version.model, **(window or WINDOW), enqueue=False)
    return analysis_execute(run_id=run.pk)


@pytest.fixture
def shifted(db, clock):
    sc = make_scenario("mean_shift", n_reference=3_000, n_current=2_000, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current)
    return version


def drifted(run):
    return set(FeatureResult.objects.filter(run=run, drifted=True).values_list("feature", flat=True))


def test_a_mean_shift_is_found_on_that_feature_only(shifted):
    run = analysed(shifted)

    assert run.status == RunStatus.DONE and run.rows == 2_000 and run.labelled_rows == 2_000
    assert drifted(run) == {"num_0"}
    assert AnalysisResult.objects.filter(run=run, status="ok").count() == 9
    assert FeatureResult.objects.filter(run=run).count() == 8
    assert run.narrative.startswith("Num 0 changed against the reference. Average num 0 rose")


def test_a_stationary_window_flags_nothing(db, clock):
    sc = make_scenario("stationary", n_reference=3_000, n_current=2_000, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)

    run = analysed(version)

    assert run.status == RunStatus.DONE and drifted(run) == set()
    perf = AnalysisResult.objects.get(run=run, section="performance")
    assert perf.status == "no_data" and "No outcomes have arrived yet" in perf.reason
    assert AnalysisResult.objects.get(run=run, section="estimated_performance").status == "ok"


def test_a_window_without_data_answers_no_data_with_a_reason(shifted):
    run = analysed(shifted, window_start=DAY - timedelta(days=3), window_end=DAY - timedelta(days=2))

    assert run.status == RunStatus.NO_DATA
    assert run.reason == (
        "No predictions of version 'v1' between 2026-11-16 00:00 UTC and 2026-11-17 00:00 UTC."
    )
    assert set(AnalysisResult.objects.filter(run=run).values_list("status", flat=True)) == {"no_data"}


def test_a_version_without_reference_is_refused_with_the_missing_piece_named(db, clock):
    version = scenario_model(make_scenario("stationary", n_reference=10, n_current=10), reference=False)

    with pytest.raises(ApplicationError) as refused:
        analysis_request(model=version.model, **WINDOW)

    assert "has no reference dataset" in refused.value.message
    assert "/api/v1/models/scenario/versions/v1/reference/" in refused.value.message
    assert refused.value.errors == [{"field": "version", "message": "no reference dataset"}]


def test_a_scheduled_run_without_reference_ends_needing_one(db, clock):
    version = scenario_model(make_scenario("stationary", n_reference=10, n_current=10), reference=False)
    run = AnalysisRun.objects.create(model=version.model, version=version, **WINDOW)

    run = analysis_execute(run_id=run.pk)

    assert run.status == RunStatus.NEEDS_REFERENCE and "has no reference dataset" in run.reason
    assert AnalysisResult.objects.get(run=run, section="data_drift").status == "error"


def test_rerunning_a_window_replaces_its_results_in_place(shifted):
    first = analysed(shifted)
    second = analysed(shifted)

    assert second.pk == first.pk and second.attempts == 2
    assert AnalysisRun.objects.count() == 1
    assert AnalysisResult.objects.filter(run=first).count() == 9
    assert FeatureResult.objects.filter(run=first).count() == 8


def test_a_run_is_executed_once_however_often_it_is_handed_out(shifted):
    run = analysis_request(model=shifted.model, **WINDOW, enqueue=False)

    assert analysis_execute(run_id=run.pk) is not None
    assert analysis_execute(run_id=run.pk) is None  # already done: the claim fails, nothing is rewritten
    assert AnalysisResult.objects.filter(run=run).count() == 9


def test_a_run_stuck_in_running_is_claimed_again_after_a_while(shifted, clock):
    run = analysis_request(model=shifted.model, **WINDOW, enqueue=False)
    running = AnalysisRun.objects.filter(pk=run.pk)
    running.update(status=RunStatus.RUNNING, started_at=clock - timedelta(minutes=5))
    assert analysis_execute(run_id=run.pk) is None

    AnalysisRun.objects.filter(pk=run.pk).update(started_at=clock - STUCK_AFTER - timedelta(minutes=1))
    assert analysis_execute(run_id=run.pk).status == RunStatus.DONE


def test_thresholds_are_learned_once_and_fed_once_per_window(shifted):
    features = LearnedThreshold.objects.exclude(feature=PCA_KEY[0])
    first = analysed(shifted)
    learned = {(t.feature, t.method): t.passes for t in features}
    analysed(shifted)

    assert len(learned) == 8
    # Seven features passed and fed their thresholds; the drifted one did not; the re-run fed nothing.
    assert sorted(learned.values()) == [0] + [1] * 7
    assert {(t.feature, t.method): t.passes for t in features} == learned
    assert first.thresholds_fed is True


def test_the_pca_null_is_learned_once_per_reference_and_reused(db, clock):
    sc = make_scenario("stationary", n_reference=3_000, n_current=2_000, n_numeric=12, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current)

    first = analysed(version)
    pca = LearnedThreshold.objects.get(feature=PCA_KEY[0])
    second = analysed(version)

    assert LearnedThreshold.objects.get(feature=PCA_KEY[0]).pk == pca.pk  # reused, not learned again
    assert pca.state["center"] > 0 and pca.value > pca.state["center"]
    results = [AnalysisResult.objects.get(run=r, section="data_drift").data for r in (first, second)]
    pcas = [r["multivariate"]["pca"] for r in results]
    assert pcas[0] == pcas[1] and pcas[0]["testable"] and not pcas[0]["drifted"]
    assert pcas[0]["expected"] == pytest.approx(pca.state["center"])
    # Passing windows adapt the feature thresholds only.
    assert LearnedThreshold.objects.get(feature=PCA_KEY[0]).state == pca.state


def test_a_false_alarm_lifts_the_threshold_above_the_flagged_effect(shifted):
    run = analysed(shifted)
    effect = FeatureResult.objects.get(run=run, feature="num_0").effect_size

    row = threshold_mark_false_alarm(run=run, feature="num_0")

    assert row.false_alarms == 1
    assert row.state["floor"] >= effect or row.value == row.state["upper"]
    with pytest.raises(ApplicationError, match="was not flagged as drifted"):
        threshold_mark_false_alarm(run=run, feature="num_1")


def test_stale_profiles_are_rebuilt_before_the_window_is_analysed(shifted):
    other = make_scenario("stationary", n_reference=3_000, n_current=10, seed=5)
    # New bins; the rebuild that reference_upload queues waits for a commit that never comes here.
    reference_upload(version=shifted, rows=reference_rows(other.reference), source="json")
    digest = ProfileSpec.from_json(ReferenceDataset.objects.get(version=shifted).profile_spec).digest
    assert ProfileFragment.objects.exclude(spec_digest=digest).exists()

    run = analysed(shifted)

    data = AnalysisResult.objects.get(run=run, section="data_drift").data
    assert run.status == RunStatus.DONE and run.rows == 2_000 and "stale_rows" not in data
    assert set(ProfileFragment.objects.values_list("spec_digest", flat=True)) == {digest}


def test_labels_record_writes_label_fragments_from_inserted_outcomes(db, clock):
    sc = make_scenario("stationary", n_reference=500, n_current=300, seed=1)
    version = scenario_model(sc)
    ids = ingest(version, sc.current, labels=False)
    stored = dict(PredictionLog.objects.filter(record_id__in=ids).values_list("record_id", "pk"))
    outcomes = Outcome.objects.bulk_create(
        [
            Outcome(
                model=version.model,
                prediction_id=stored[rid],
                label=int(sc.current.y[i]),
                observed_at=clock,
                received_at=clock,
            )
            for i, rid in enumerate(ids)
        ]
    )
    LabelFragment.objects.all().delete()  # whatever ingestion may already have recorded

    written = labels_record(model=version.model, outcomes=outcomes)

    fragments = LabelFragment.objects.filter(version=version)
    assert written == fragments.count() == 24  # one per prediction hour
    assert sum(fragments.values_list("rows", flat=True)) == 300
    total = sum(sum(f.sketch["labels"].values()) for f in fragments)
    assert total == 300


def test_a_holdout_evaluation_measures_performance_on_recent_labels(
    shifted, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (run_id,) = holdout_evaluate(days=30)
    run = AnalysisRun.objects.get(pk=run_id)

    assert run.kind == RunKind.HOLDOUT and run.status == RunStatus.DONE
    assert run.window_end - run.window_start == timedelta(days=30)
    statuses = dict(AnalysisResult.objects.filter(run=run).values_list("section", "status"))
    assert statuses["performance"] == "ok" and statuses["data_drift"] == "not_applicable"
    assert holdout_evaluate(days=30) == []  # today's holdout exists already


def test_schedule_settings_change_through_the_service(shifted):
    model = analysis_schedule_update(model=shifted.model, analysis_window="hourly", analysis_enabled=False)

    model.refresh_from_db()
    assert (model.analysis_window, model.analysis_enabled) == ("hourly", False)
    assert model.fairness_four_fifths is False


def test_the_credit_model_is_analysed_with_its_identifier_boolean_and_dropped_features(credit_v1, clock):
    from drift.services.ingestion import predictions_ingest
    from drift.services.profiles import profiles_rebuild
    from tests.conftest import prediction
    from tests.drift.conftest import iso

    reference = [
        {"features": prediction(i)["features"], "prediction": 1, "score": 0.8, "label": i % 2}
        for i in range(300)
    ]
    reference_upload(version=credit_v1, rows=reference, source="json")
    records = [prediction(1_000 + i, timestamp=iso(DAY + timedelta(minutes=i))) for i in range(300)]
    predictions_ingest(model=credit_v1.model, version="v1", records=records)
    profiles_rebuild(version=credit_v1)

    run = analysed(credit_v1)

    entries = {
        e["feature"]: e for e in AnalysisResult.objects.get(run=run, section="data_drift").data["features"]
    }
    assert run.status == RunStatus.DONE and set(entries) == {
        "income",
        "age",
        "region",
        "has_default",
        "gender",
        "customer_ref",
    }  # email is never stored
    assert entries["income"]["drifted"] and [f for f, e in entries.items() if e["drifted"]] == ["income"]
    assert "looks like an identifier" in entries["customer_ref"]["explanation"]
    assert "single value ('false')" in entries["has_default"]["explanation"]
    fairness = AnalysisResult.objects.get(run=run, section="fairness").data
    assert fairness["status"] == "ok" and fairness["source"].startswith("predictions")
    assert run.narrative.startswith("Income changed against the reference. Average income rose")
