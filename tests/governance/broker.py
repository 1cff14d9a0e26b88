"""A real Celery worker subprocess on the test database, for the end-to-end test (CI: PostgreSQL + Redis).

Like tests/drift/test_analyses_broker.py's worker, it consumes a queue of its own so that no other
worker on the same broker takes these tasks; unlike it, the worker also sends the tasks it enqueues
itself (dispatcher → analysis → policies → notifications) to that queue, so a whole chain stays here.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

WORKER = """
import sys
from monitoring_site.celery import app
app.conf.task_default_queue = sys.argv[1]
app.worker_main(["worker", "--pool=solo", "-l", "info", "-Q", sys.argv[1],
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(
    check: Callable[[], object], what: str, timeout: float = TIMEOUT, log: Path | None = None
) -> object:
    """Poll `check` until it returns something truthy; fail naming `what` (and the worker's last words)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n--- worker log ---\n{tail}")


@pytest.fixture
def worker(settings: object, tmp_path: Path) -> Iterator[Path]:
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker or connection.vendor != "postgresql":
        pytest.skip("needs CELERY_BROKER_URL and PostgreSQL (DATABASE_URL=postgres://...)")
    from monitoring_site.celery import app

    queue = f"driftwatch-e2e-{uuid.uuid4().hex[:8]}"
    before = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, queue], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "ready." in log.read_text() or proc.poll() is not None, "the worker to start", 60)
        assert proc.poll() is None, log.read_text()[-3000:]
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        app.conf.task_always_eager, app.conf.task_default_queue = before
