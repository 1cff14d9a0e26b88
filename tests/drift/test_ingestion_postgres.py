"""PostgreSQL only: concurrent duplicate batches, concurrent outcomes, and the COPY fast path.

Run with DATABASE_URL=postgres://… ; elsewhere these tests skip.
"""

import random
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections

from drift.models import Outcome, PredictionLog
from drift.services import ingestion
from drift.services.ingestion import outcomes_ingest, pii_key, predictions_ingest
from drift.validation import pii_hasher
from tests.conftest import prediction
from tests.drift.conftest import NOW

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres", "clock")]

THREADS = 4


@pytest.fixture
def postgres(db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…)")


def in_threads(work: Callable[[int], Any], count: int = THREADS) -> list[Any]:
    """Run `work(k)` in `count` threads at once, each on its own connection; re-raise the first error."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(k: int) -> None:
        try:
            start.wait(timeout=20)
            results[k] = work(k)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]
    return results


def held_at(barrier: threading.Barrier, real: Callable[..., Any]) -> Callable[..., Any]:
    """`real`, then wait until every thread got that far: all batches check before any inserts."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        barrier.wait(timeout=20)
        return found

    return wrapper


def overlapping_batch(k: int) -> list[dict[str, Any]]:
    """Thread k sends ids 50k … 50k+99, shuffled: each batch overlaps the next one by half."""
    records = [prediction(i) for i in range(50 * k, 50 * k + 100)]
    random.Random(k).shuffle(records)
    return records


def expected_features(i: int) -> dict[str, Any]:
    features = dict(prediction(i)["features"])
    del features["email"]
    features["customer_ref"] = pii_hasher(pii_key())(features["customer_ref"])
    return features


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_batches_store_every_id_exactly_once(credit_v1):
    model = credit_v1.model
    checked = threading.Barrier(THREADS)
    real_check = ingestion.existing_record_ids

    with mock.patch.object(ingestion, "existing_record_ids", held_at(checked, real_check)):
        results = in_threads(
            lambda k: predictions_ingest(model=model, version="v1", records=overlapping_batch(k))
        )

    unique_ids = 50 * (THREADS + 1)
    assert PredictionLog.objects.count() == unique_ids
    assert sum(r.accepted for r in results) == unique_ids
    assert sum(r.accepted + r.duplicates for r in results) == 100 * THREADS
    assert all(not r.rejected for r in results)
    # Rows written by the batches that lost the race (the slow path) hold the same JSON as the others.
    for row in PredictionLog.objects.filter(record_id__in=["p-0", "p-75", "p-125", f"p-{unique_ids - 1}"]):
        assert row.features == expected_features(int(row.record_id[2:]))


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_through_the_api_count_duplicates_correctly(api, credit_key):
    def send(k: int) -> dict[str, Any]:
        answer = api(key=credit_key).post(
            "/api/v1/models/credit-risk/predictions/",
            {"version": "v1", "records": overlapping_batch(k % 2)},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        return answer.json()

    results = in_threads(send)

    assert PredictionLog.objects.count() == 150
    assert sum(r["accepted"] for r in results) == 150
    assert sum(r["duplicates"] for r in results) == 100 * THREADS - 150


@pytest.mark.django_db(transaction=True)
def test_concurrent_outcomes_for_the_same_predictions_label_each_once(credit_v1):
    model = credit_v1.model
    predictions_ingest(model=model, version="v1", records=[prediction(i) for i in range(20)])
    labelled = threading.Barrier(THREADS)
    real_filter = Outcome.objects.filter

    def send(k: int) -> Any:
        # Thread k labels predictions 5k … 5k+9 with label k, in its own order.
        ids = list(range(5 * k, 5 * k + 10))
        random.Random(k).shuffle(ids)
        return outcomes_ingest(
            model=model, records=[{"prediction_id": f"p-{i % 20}", "label": k} for i in ids]
        )

    # Every thread looks for existing outcomes before any of them inserts.
    with mock.patch.object(Outcome.objects, "filter", held_at(labelled, real_filter)):
        results = in_threads(send)

    distinct = len({i % 20 for k in range(THREADS) for i in range(5 * k, 5 * k + 10)})
    assert Outcome.objects.count() == distinct
    assert sum(r.accepted for r in results) == distinct
    assert sum(r.accepted + r.duplicates for r in results) == 10 * THREADS
    assert Outcome.objects.values("prediction_id").distinct().count() == distinct


def test_the_copy_path_stores_json_values_with_their_types(credit_v1):
    record = prediction(0, score=0.125, latency_ms=3, status="error", prediction="approve")
    record["features"].update(income=52_000, age=41.5, has_default=True, gender=None, region="north")
    record["attributions"] = {"income": 0.5, "age": -1, "has_default": 0.0}
    record["lineage"] = {
        "source": "kafka://scores",
        "pipeline_version": "2.3.1",
        "replayed": False,
        "lag_s": 1.5,
        "parents": ["a", 1, None, {"x": [True]}],
        "note": "naïve ☃",
    }

    with mock.patch.object(PredictionLog.objects, "bulk_create", side_effect=AssertionError("generic path")):
        result = predictions_ingest(
            model=credit_v1.model, version="v1", records=[record, prediction(1, id=2**62)]
        )

    assert result.accepted == 2
    row = PredictionLog.objects.get(record_id="p-0")
    assert row.features == {
        "income": 52_000,
        "age": 41.5,
        "has_default": True,
        "gender": None,
        "region": "north",
        "customer_ref": pii_hasher(pii_key())("CUST-000000"),
    }
    assert type(row.features["income"]) is int and type(row.features["age"]) is float
    assert row.attributions == {"income": 0.5, "age": -1, "has_default": 0.0}
    assert row.lineage == record["lineage"]
    assert (row.prediction, row.score, row.latency_ms, row.status) == ("approve", 0.125, 3.0, "error")
    assert (row.timestamp, row.received_at, row.is_late, row.value_issues) == (
        NOW.replace(minute=0),
        NOW,
        False,
        None,
    )
    assert PredictionLog.objects.filter(record_id=str(2**62)).exists()


def test_the_copy_path_stores_value_issues_and_lateness(credit_v1):
    records = [prediction(0, timestamp="2026-11-17T00:00:00Z"), prediction(1)]
    records[1]["features"].update(age=7, region="mars", income=None)

    predictions_ingest(model=credit_v1.model, version="v1", records=records)

    rows = {r.record_id: r for r in PredictionLog.objects.all()}
    assert (rows["p-0"].is_late, rows["p-0"].value_issues) == (True, None)
    assert rows["p-1"].value_issues == {
        "age": "out_of_range",
        "region": "undeclared_category",
        "income": "null_not_allowed",
    }


def test_a_refused_batch_leaves_no_rows_on_postgres_either(credit_v1):
    with pytest.raises(ingestion.ApplicationError):
        predictions_ingest(
            model=credit_v1.model, version="v1", records=[prediction(0), prediction(1, id=None)]
        )

    assert not PredictionLog.objects.exists()
