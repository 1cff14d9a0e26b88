"""Redis (the Celery broker) stops: telemetry keeps being accepted, an analysis requested meanwhile is
kept as a pending run, and when Redis is back the dispatcher sends it and the worker, reconnected,
finishes it. Nothing is lost even though the restarted Redis is empty."""

import time
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
import requests

from bench._server import gunicorn_server
from tests.faults.clients import Tally, send_until_stored
from tests.faults.seed import record
from tests.faults.services import celery_worker, child_env, manage, private_redis, wait_for

pytestmark = pytest.mark.faults


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_ingestion_and_analyses_outlive_a_broker_outage(pg, seeded, tmp_path):
    db = "broker_stopped"
    url = pg.create_database(db)
    slug, version = seeded["slug"], seeded["version"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    rng = Random(2)
    with private_redis() as broker:
        env = child_env(DATABASE_URL=url, CELERY_BROKER_URL=broker.url)
        with (
            gunicorn_server(env=env, workers=2) as server,
            celery_worker(env=env, logdir=tmp_path, name="patient") as worker,
        ):
            api = requests.Session()
            api.headers["Authorization"] = f"Token {seeded['token']}"
            base = f"{server.url}/api/v1/models/{slug}"
            for _ in range(4):  # each web process's first request loads the views (seconds): not here
                api.get(f"{base}/", timeout=30)
            broker.stop()

            # Telemetry: every batch accepted at once, no retry needed, no broker time-out paid.
            tally, times = Tally(), []
            for b in range(10):
                records = [
                    record(b * 50 + i, rng, prefix="o", timestamp=iso(hour + timedelta(minutes=30)))
                    for i in range(50)
                ]
                started = time.monotonic()
                answer = api.post(f"{base}/predictions/", json={"version": version, "records": records})
                times.append(round(time.monotonic() - started, 2))
                tally.saw(answer)
                assert answer.status_code == 200, answer.text[:300]
                tally.sent += 50
            labels = [{"prediction_id": f"o-{i}", "label": i % 2} for i in range(100)]
            assert api.post(f"{base}/outcomes/", json={"records": labels}).json()["accepted"] == 100
            health = {"timestamp": iso(hour + timedelta(minutes=30)), "queue_depth": 3}
            assert api.post(f"{base}/health/", json=health).status_code == 201
            # Sending a task to a stopped Redis costs >= 0.6 s (connection retries); a batch takes 0.05 s.
            assert sorted(times)[len(times) // 2] < 0.5, times

            # An analysis request is kept, not refused; the readiness probe reports the broker.
            answer = api.post(
                f"{base}/analyses/",
                json={"window_start": iso(hour), "window_end": iso(hour + timedelta(hours=1))},
            )
            assert answer.status_code == 202, answer.text[:300]
            run_id = int(answer.json()["id"])
            ((status, enqueued_at),) = pg.sql(
                f"SELECT status, enqueued_at FROM drift_analysisrun WHERE id = {run_id}", db
            )
            assert (status, enqueued_at) == ("pending", None)  # left for the dispatcher's next beat
            ready = requests.get(f"{server.url}/readyz", timeout=10).json()
            assert ready["checks"]["broker"].startswith("error") and ready["checks"]["database"] == "ok"

            # Redis comes back empty; the worker reconnects by itself, the dispatcher re-sends the run.
            broker.start()
            send_until_stored(
                api,
                f"{base}/predictions/",
                {"version": version, "records": [record(999, rng, prefix="after", timestamp=iso(hour))]},
                tally,
            )
            tally.sent += 1
            sent = manage(
                "shell",
                "-c",
                "from drift.services.analysis_dispatch import analyses_dispatch; print(analyses_dispatch())",
                env=env,
            )
            assert int(sent.strip().splitlines()[-1]) >= 1
            status_sql = f"SELECT status FROM drift_analysisrun WHERE id = {run_id}"
            wait_for(
                lambda: pg.sql(status_sql, db) == [("done",)],
                "the run to finish once the broker is back",
                45,
                0.5,
                worker.text,
            )
            log = worker.text()

    assert "Cannot connect" in log or "Connection to broker lost" in log  # it did see the outage
    (stored,) = pg.sql("SELECT count(*) FROM drift_predictionlog", db)[0]
    assert stored == tally.sent
    windows = pg.sql(
        f"SELECT count(*) FROM drift_analysisrun WHERE window_start = '{iso(hour)}'::timestamptz", db
    )
    assert windows == [(1,)]
