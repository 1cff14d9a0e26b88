"""A Celery worker dies (SIGKILL) in the middle of an analysis: the task message is redelivered and the
window ends with exactly one finished run and one set of results."""

import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import pytest
import requests

from bench._server import child_pids, gunicorn_server
from tests.faults.clients import Tally, send_until_stored
from tests.faults.seed import record
from tests.faults.services import PrivatePostgres, celery_worker, child_env, private_redis, wait_for

pytestmark = pytest.mark.faults
VISIBILITY_TIMEOUT = 3  # seconds before a message taken by a dead worker goes back to the queue
SLOW_WORKER = [sys.executable, "-m", "tests.faults.slow_worker"]


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class Stack:
    def __init__(self, pg: PrivatePostgres, db: str, env: dict[str, str], base: str, info: dict[str, Any]):
        self.pg, self.db, self.env, self.base, self.info = pg, db, env, base, info
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {info['token']}"

    def run(self, run_id: int) -> dict[str, Any]:
        (row,) = self.pg.sql(
            f"SELECT status, attempts, started_at FROM drift_analysisrun WHERE id = {int(run_id)}", self.db
        )
        return {"status": row[0], "attempts": row[1], "started_at": row[2]}

    def request_analysis(self) -> int:
        """Telemetry for one hour two hours ago, then an analysis of that window; the run's id."""
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
        rng = Random(1)
        stamp = iso(hour + timedelta(minutes=20))
        records = [record(i, rng, prefix="w", timestamp=stamp) for i in range(400)]
        url = f"{self.base}/api/v1/models/{self.info['slug']}/predictions/"
        body = {"version": self.info["version"], "records": records}
        assert send_until_stored(self.api, url, body, Tally())["accepted"] == 400
        answer = self.api.post(
            f"{self.base}/api/v1/models/{self.info['slug']}/analyses/",
            json={"window_start": iso(hour), "window_end": iso(hour + timedelta(hours=1))},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return int(answer.json()["id"])

    def assert_one_result(self, run_id: int) -> None:
        assert self.pg.sql("SELECT count(*) FROM drift_analysisrun", self.db) == [(1,)]
        sections = self.pg.sql(
            "SELECT section, count(*) FROM drift_analysisresult "
            f"WHERE run_id = {int(run_id)} GROUP BY section",
            self.db,
        )
        assert len(sections) >= 5 and all(n == 1 for _, n in sections), sections


@pytest.fixture
def stack(pg: PrivatePostgres, seeded: dict[str, Any], request) -> Iterator[Stack]:
    db = request.node.name[:60]
    url = pg.create_database(db)
    info = seeded
    with private_redis() as broker:
        env = child_env(
            DATABASE_URL=url, CELERY_BROKER_URL=broker.url, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT)
        )
        with gunicorn_server(env=env, workers=2) as server:
            yield Stack(pg, db, env, server.url, info)


def test_a_worker_killed_mid_analysis_hands_the_run_to_the_next_worker(stack, tmp_path):
    with celery_worker(env=stack.env, logdir=tmp_path, name="doomed", command=SLOW_WORKER) as doomed:
        run_id = stack.request_analysis()
        wait_for(lambda: stack.run(run_id)["status"] == "running", "the doomed worker to claim the run", 30)
        doomed.kill()
    assert stack.run(run_id)["status"] == "running"  # nobody will finish it...

    # ...until the message, never acknowledged, becomes visible again and another worker takes it.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    with celery_worker(env=stack.env, logdir=tmp_path, name="heir") as heir:
        wait_for(
            lambda: stack.run(run_id)["status"] == "done", "the heir to finish the run", 40, 0.5, heir.text
        )
    run = stack.run(run_id)
    assert run["attempts"] == 2, (run, heir.text()[-2000:])
    stack.assert_one_result(run_id)


def test_a_pool_process_killed_mid_analysis_is_replaced_and_the_task_requeued(stack, tmp_path):
    env = {**stack.env, "FAULT_ANALYSIS_DELAY": "2"}
    with celery_worker(env=env, logdir=tmp_path, name="survivor", command=SLOW_WORKER) as worker:
        run_id = stack.request_analysis()
        wait_for(lambda: stack.run(run_id)["status"] == "running", "the worker to claim the run", 30)
        (child,) = child_pids(worker.proc.pid)
        os.kill(child, signal.SIGKILL)  # the pool process dies; its parent rejects the message (requeue)
        wait_for(
            lambda: stack.run(run_id)["status"] == "done", "the requeued run to finish", 40, 0.5, worker.text
        )
        log = worker.text()
    run = stack.run(run_id)
    assert run["attempts"] == 2, (run, log[-2000:])
    assert "WorkerLostError" in log
    stack.assert_one_result(run_id)
