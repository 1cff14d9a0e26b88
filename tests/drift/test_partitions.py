"""Weekly partitions of predictions (PostgreSQL) and raw-data retention (both databases).

The PostgreSQL tests skip on SQLite; run them with DATABASE_URL=postgres://… . Retention's batched path
(SQLite, and PostgreSQL's default partition) runs on both.
"""

import doctest
import io
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from drift import partitioning
from drift.models import (
    AnalysisRun,
    LabelFragment,
    MonitoredModel,
    Outcome,
    PredictionLog,
    ProfileFragment,
    RunStatus,
)
from drift.partitioning import DEFAULT_PARTITION, partition_name, week_start
from drift.selectors import prediction_of_record
from drift.services import ingestion, retention
from drift.services.ingestion import outcomes_ingest, predictions_ingest
from drift.services.partitions import partitions_ensure, prediction_partitions
from drift.services.profiles import profiles_rebuild
from drift.services.retention import raw_data_horizon, raw_data_prune
from drift.services.writers import insert_predictions, stored_predictions
from drift.validation import CleanPrediction
from governance.models import Annotation, AuditEntry
from governance.services.annotations import annotation_create
from tests.conftest import prediction
from tests.drift.conftest import NOW, iso
from tests.drift.test_ingestion_postgres import held_at, in_threads

THIS_WEEK = week_start(NOW)  # Monday 16 November 2026
OLD = NOW - timedelta(weeks=10)  # a Friday in September, ten weeks back


@pytest.fixture
def postgres(db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def partitions_undone() -> Iterator[None]:
    """A transactional test's partitions outlive it (DDL commits): drop the ones it created."""
    before = {p.name for p in prediction_partitions()}
    yield
    with connection.cursor() as cursor:
        for p in prediction_partitions():
            if p.name not in before:
                cursor.execute(f"DROP TABLE {p.name}")


def partition_of(record_id: str) -> str:
    """The table a prediction's row is stored in."""
    row = PredictionLog.objects.extra(select={"part": "tableoid::regclass::text"}).get(record_id=record_id)
    return row.part  # type: ignore[attr-defined]


def stored_at(when: datetime, ids: range, **overrides: Any) -> list[dict[str, Any]]:
    return [prediction(i, timestamp=iso(when), **overrides) for i in ids]


def clean(record_id: str, when: datetime) -> CleanPrediction:
    return CleanPrediction(
        index=0,
        record_id=record_id,
        timestamp=when,
        features={"income": 1},
        prediction=1,
        score=None,
        latency_ms=None,
        status="ok",
        attributions=None,
        lineage=None,
        is_late=False,
        value_issues=None,
    )


# --- names and bounds (no database) ------------------------------------------------------------------


def test_partition_names_bounds_and_cutoffs_follow_utc_weeks() -> None:
    assert doctest.testmod(partitioning).failed == 0
    sunday_night = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert week_start(sunday_night) == THIS_WEEK
    assert partitioning.partition_start(partition_name(THIS_WEEK)) == THIS_WEEK
    # Not ours: the default partition, a hand-made table, a name whose date is not a Monday.
    for name in (DEFAULT_PARTITION, "drift_predictionlog_2026", "drift_predictionlog_w20261117"):
        assert partitioning.partition_start(name) is None
    assert partitioning.prune_cutoff(NOW, 7, whole_weeks=True) == datetime(2026, 11, 9, tzinfo=UTC)


def test_ddl_that_waits_too_long_for_a_lock_is_tried_again_and_other_errors_are_not() -> None:
    from django.db import OperationalError

    from drift.services import partitions

    def failure(sqlstate: str) -> OperationalError:
        error = OperationalError("boom")
        error.__cause__ = type("Cause", (Exception,), {"sqlstate": sqlstate})()
        return error

    calls: list[int] = []

    def busy_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise failure(partitions.LOCK_NOT_AVAILABLE)
        return "done"

    with mock.patch.object(partitions.time, "sleep") as slept:
        assert partitions.with_lock_retries(busy_twice, "test") == "done"
        assert len(calls) == 3 and slept.call_count == 2
        with pytest.raises(OperationalError):
            partitions.with_lock_retries(mock.Mock(side_effect=failure("57P01")), "test")
        assert slept.call_count == 2


# --- partitions (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.usefixtures("postgres")
def test_migrate_leaves_this_week_the_weeks_ahead_and_a_default_partition(settings) -> None:
    now = datetime.now(UTC)  # migrate ran with the real clock
    weeks = {p.start for p in prediction_partitions()}

    assert set(partitioning.weeks_ahead(now, settings.DRIFTWATCH["PARTITIONS_AHEAD_WEEKS"])) <= weeks
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [DEFAULT_PARTITION])
        assert cursor.fetchone() == ("r",)
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = 'drift_predictionkey'::regclass"
        )
        assert {row[0] for row in cursor.fetchall()} == {"drift_outcome", "governance_annotation"}


@pytest.mark.usefixtures("postgres")
def test_ensuring_partitions_creates_the_missing_weeks_once() -> None:
    far = datetime.now(UTC) + timedelta(weeks=40)

    created = partitions_ensure(now=far, ahead=1)
    again = partitions_ensure(now=far, ahead=1)

    assert created == [partition_name(week_start(far)), partition_name(week_start(far) + timedelta(weeks=1))]
    assert again == []


@pytest.mark.usefixtures("postgres", "clock")
def test_rows_outside_every_partition_land_in_the_default_one_and_move_when_their_week_arrives(credit_v1):
    model = credit_v1.model
    ancient, distant = datetime(2019, 3, 5, tzinfo=UTC), datetime(2031, 7, 1, tzinfo=UTC)
    predictions_ingest(model=model, version="v1", records=stored_at(ancient, range(0, 2)))
    # The API refuses future times; the writer takes what it is given.
    insert_predictions([clean("far", distant)], model_id=model.pk, version_id=credit_v1.pk, received_at=NOW)

    assert {partition_of("p-0"), partition_of("p-1"), partition_of("far")} == {DEFAULT_PARTITION}

    partitions_ensure(now=ancient, ahead=0)

    assert partition_of("p-0") == partition_name(week_start(ancient))
    assert partition_of("far") == DEFAULT_PARTITION
    # The moved rows keep their ids: their keys and outcomes still find them.
    result = outcomes_ingest(model=model, records=[{"prediction_id": "p-0", "label": 1}])
    assert result.accepted == 1 and Outcome.objects.get().prediction.record_id == "p-0"


@pytest.mark.usefixtures("postgres", "clock")
def test_a_re_sent_record_is_a_duplicate_even_when_its_time_puts_it_in_another_partition(credit_v1):
    partitions_ensure(now=OLD, ahead=10)
    model = credit_v1.model
    first = predictions_ingest(model=model, version="v1", records=stored_at(OLD, range(0, 3)))

    again = predictions_ingest(
        model=model, version="v1", records=stored_at(NOW - timedelta(hours=1), range(0, 4))
    )

    assert (first.accepted, again.accepted, again.duplicates) == (3, 1, 3)
    assert PredictionLog.objects.count() == 4
    assert partition_of("p-0") == partition_name(week_start(OLD))
    assert partition_of("p-3") == partition_name(THIS_WEEK)
    assert set(stored_predictions(model.pk, ["p-0", "p-3", "nope"])) == {"p-0", "p-3"}


@pytest.mark.usefixtures("postgres", "partitions_undone")
@pytest.mark.django_db(transaction=True)
def test_concurrent_re_sends_with_different_times_store_each_id_once(credit_v1, clock):
    model = credit_v1.model
    partitions_ensure(now=OLD, ahead=10)
    checked = threading.Barrier(4)
    real_check = ingestion.existing_record_ids

    def send(k: int) -> Any:
        # Every thread sends ids 0-59 (overlapping), each at a time in a different week.
        when = NOW - timedelta(weeks=k, hours=1)
        return predictions_ingest(
            model=model, version="v1", records=stored_at(when, range(k * 10, 60 + k * 10))
        )

    # Every batch checks for stored ids before any of them writes: the keys decide.
    with mock.patch.object(ingestion, "existing_record_ids", held_at(checked, real_check)):
        results = in_threads(send)

    assert PredictionLog.objects.count() == 90
    assert PredictionLog.objects.values("record_id").distinct().count() == 90
    assert sum(r.accepted for r in results) == 90
    assert sum(r.accepted + r.duplicates for r in results) == 240
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM drift_predictionkey")
        assert cursor.fetchone()[0] == 90
    assert len({partition_of(f"p-{i}") for i in range(90)}) > 1


@pytest.mark.usefixtures("postgres", "clock")
def test_keys_follow_deletes_and_updates_of_predictions(credit_v1):
    partitions_ensure(now=OLD, ahead=10)
    model = credit_v1.model
    predictions_ingest(model=model, version="v1", records=stored_at(NOW, range(0, 3)))

    PredictionLog.objects.filter(record_id="p-0").update(record_id="renamed", timestamp=OLD)
    PredictionLog.objects.filter(record_id="p-1").delete()

    assert set(stored_predictions(model.pk, ["p-0", "p-1", "p-2", "renamed"])) == {"p-2", "renamed"}
    assert prediction_of_record(model, "renamed").get().timestamp == OLD
    assert partition_of("renamed") == partition_name(week_start(OLD))
    # A deleted id may be sent again.
    assert predictions_ingest(model=model, version="v1", records=stored_at(NOW, range(1, 2))).accepted == 1
    MonitoredModel.objects.filter(pk=model.pk).delete()
    assert stored_predictions(model.pk, ["p-1", "p-2", "renamed"]) == {}


@pytest.mark.usefixtures("postgres", "clock")
def test_a_prediction_is_found_by_its_record_id_through_the_key_table(credit_v1):
    predictions_ingest(model=credit_v1.model, version="v1", records=stored_at(NOW, range(0, 2)))

    assert prediction_of_record(credit_v1.model, "p-1").get().record_id == "p-1"
    assert not prediction_of_record(credit_v1.model, "p-9").exists()


# --- retention -----------------------------------------------------------------------------------


def seed_history(credit_v1: Any, bob: Any) -> MonitoredModel:
    """Ten predictions ten weeks back (half labelled, one flagged by bob) and ten from today."""
    model = credit_v1.model
    predictions_ingest(model=model, version="v1", records=stored_at(OLD, range(0, 10)))
    predictions_ingest(model=model, version="v1", records=stored_at(NOW - timedelta(hours=1), range(10, 20)))
    outcomes_ingest(
        model=model, records=[{"prediction_id": f"p-{i}", "label": i % 2} for i in range(0, 20, 2)]
    )
    annotation_create(model=model, by=bob, category="wrong_prediction", note="odd", record_id="p-3")
    AnalysisRun.objects.create(
        model=model,
        version=credit_v1,
        window_start=OLD,
        window_end=OLD + timedelta(days=1),
        status=RunStatus.DONE,
    )
    return model


@pytest.fixture
def history(credit_v1: Any, bob: Any) -> MonitoredModel:
    return seed_history(credit_v1, bob)


def fragments() -> tuple[int, int]:
    return ProfileFragment.objects.count(), LabelFragment.objects.count()


def assert_old_raw_data_gone_and_the_rest_kept(model: MonitoredModel, before: tuple[int, int]) -> None:
    assert sorted(PredictionLog.objects.values_list("record_id", flat=True)) == sorted(
        f"p-{i}" for i in range(10, 20)
    )
    assert Outcome.objects.count() == 5
    flagged = Annotation.objects.get()
    assert (flagged.record_id, flagged.prediction_id) == ("p-3", None)
    assert fragments() == before
    assert AnalysisRun.objects.filter(status=RunStatus.DONE).count() == 1
    # The record ids of pruned predictions are free again; outcomes for them are refused.
    assert set(stored_predictions(model.pk, [f"p-{i}" for i in range(20)])) == {
        f"p-{i}" for i in range(10, 20)
    }
    refused = outcomes_ingest(model=model, records=[{"prediction_id": "p-1", "label": 1}], partial=True)
    assert refused.accepted == 0 and refused.rejected


@pytest.mark.usefixtures("postgres", "clock")
def test_retention_drops_whole_old_partitions_and_keeps_profiles_and_results(credit_v1, bob):
    partitions_ensure(now=OLD, ahead=10)
    old_partition = partition_name(week_start(OLD))
    model = seed_history(credit_v1, bob)
    before = fragments()
    assert partition_of("p-0") == old_partition
    # The rows were written in this test's transaction, so their deferred foreign-key checks are still
    # pending and would block the DROP; in production they were committed long before.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    report = raw_data_prune(days=30, now=NOW)

    assert old_partition in report.partitions
    assert (report.predictions, report.dependents) == (
        10,
        {"drift.Outcome": 5, "governance.Annotation": 1},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [old_partition])
        assert cursor.fetchone() == (None,)
    assert_old_raw_data_gone_and_the_rest_kept(model, before)
    entry = AuditEntry.objects.get(action="raw_data.prune", after__partition=old_partition)
    assert (entry.actor, entry.after["predictions"]) == ("system:raw_data_prune", 10)
    # Every partition before the cut-off went, the empty ones after OLD's week too.
    assert raw_data_horizon() == partitioning.prune_cutoff(NOW, 30, whole_weeks=True) == report.cutoff


@pytest.mark.usefixtures("clock")
def test_retention_without_partitions_deletes_old_rows_in_batches(history, caplog):
    """SQLite's path, and on PostgreSQL that of the default partition (no partition for these weeks)."""
    before = fragments()

    with mock.patch.object(retention, "BATCH", 3), caplog.at_level(logging.INFO, "driftwatch.retention"):
        report = raw_data_prune(days=30, now=NOW)

    assert report.partitions == [] and report.predictions == 10
    assert report.dependents == {"drift.Outcome": 5, "governance.Annotation": 1}
    assert_old_raw_data_gone_and_the_rest_kept(history, before)
    (entry,) = AuditEntry.objects.filter(action="raw_data.prune")
    assert entry.after["predictions"] == 10 and entry.after["batched"]
    cutoff = partitioning.prune_cutoff(NOW, 30, whole_weeks=connection.vendor == "postgresql")
    assert entry.after["pruned_before"] == cutoff.isoformat() and raw_data_horizon() == cutoff
    assert "pruned 10 raw predictions" in caplog.text


@pytest.mark.usefixtures("clock")
def test_a_dry_run_counts_and_changes_nothing(history):
    report = raw_data_prune(days=30, now=NOW, dry_run=True)

    assert (report.predictions, report.dependents["drift.Outcome"]) == (10, 5)
    assert PredictionLog.objects.count() == 20 and Outcome.objects.count() == 10
    assert not AuditEntry.objects.filter(action="raw_data.prune").exists()


@pytest.mark.usefixtures("clock")
def test_a_profile_rebuild_after_pruning_keeps_the_fragments_of_pruned_hours(history, credit_v1):
    old_hours = set(
        ProfileFragment.objects.filter(hour__lt=NOW - timedelta(days=30)).values_list("hour", "rows")
    )
    raw_data_prune(days=30, now=NOW)

    profiles_rebuild(version=credit_v1)

    kept = set(ProfileFragment.objects.filter(hour__lt=NOW - timedelta(days=30)).values_list("hour", "rows"))
    assert old_hours and kept == old_hours
    assert ProfileFragment.objects.filter(hour__gte=NOW - timedelta(days=1)).exists()


@pytest.mark.usefixtures("clock")
def test_the_command_prunes_with_a_dry_run_first(history):
    call_command("prune_raw_data", "--days", "30", "--dry-run", stdout=(dry := io.StringIO()))
    assert "would remove 10 raw predictions" in dry.getvalue() and PredictionLog.objects.count() == 20

    call_command("prune_raw_data", "--days", "30", stdout=(done := io.StringIO()))

    assert "removed 10 raw predictions" in done.getvalue() and "5 drift.Outcome" in done.getvalue()
    assert PredictionLog.objects.count() == 10
    assert AuditEntry.objects.filter(action="raw_data.prune", actor="system:prune_raw_data").exists()


def test_the_command_needs_a_number_of_days(db, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "RAW_RETENTION_DAYS": 0}
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_raw_data")
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_raw_data", "--days", "0")


@pytest.mark.usefixtures("clock")
def test_the_daily_task_prunes_only_when_retention_is_set(history, settings):
    from drift.tasks import raw_data_prune as task

    assert {"partitions-ensure", "raw-data-prune"} <= set(settings.CELERY_BEAT_SCHEDULE)
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "RAW_RETENTION_DAYS": 0}
    assert task() is None and PredictionLog.objects.count() == 20

    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "RAW_RETENTION_DAYS": 30}
    assert task()["predictions"] == 10 and PredictionLog.objects.count() == 10
