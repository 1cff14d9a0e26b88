"""PostgreSQL restarts and goes away under a stream of telemetry: the API answers 503 with Retry-After
(never 500), and clients that retry on 503 end with every record stored exactly once."""

import threading
import time

import pytest
import requests

from bench._server import gunicorn_server
from tests.faults.clients import Tally, ingest_until
from tests.faults.services import child_env

pytestmark = pytest.mark.faults
CLIENTS = 4


def test_a_database_restart_costs_retries_not_records(pg, seeded):
    url = pg.create_database("db_restart")
    info = seeded
    with gunicorn_server(env=child_env(DATABASE_URL=url), workers=2) as server:
        tally, stop = Tally(), threading.Event()
        clients = [
            threading.Thread(
                target=ingest_until,
                kwargs={
                    "stop": stop,
                    "base": server.url,
                    "token": info["token"],
                    "slug": info["slug"],
                    "version": info["version"],
                    "tally": tally,
                    "client": n,
                },
                daemon=True,
            )
            for n in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.5)
            pg.restart(mode="fast")  # in-flight requests lose their connections
            time.sleep(1.5)
            pg.stop(mode="fast")  # an outage long enough for every client to meet it
            time.sleep(1.0)
            ready = requests.get(f"{server.url}/readyz", timeout=10)
            time.sleep(1.0)
            pg.start()
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=90)
            if not pg.running():
                pg.start()

    print(
        f"\nstatuses {dict(tally.statuses)}, batches {tally.batches}, records {tally.sent}, "
        f"duplicates {tally.duplicates}"
    )
    assert not any(t.is_alive() for t in clients), "a client never got its batch stored"
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("error")
    # Every answer was a success or a 503 that says when to retry: no 500, no dropped connection.
    assert set(tally.statuses) <= {200, 503}, (tally.statuses, tally.unexpected[:3])
    assert tally.connection_errors == 0
    assert tally.statuses[503] >= CLIENTS, tally.statuses  # each client met the outage at least once
    for refusal in tally.refused_503:
        assert refusal["retry_after"] == "5"
        assert refusal["body"] == {"detail": "The database is unavailable; retry shortly.", "errors": []}
    # Exactly once: what the clients sent is what is stored, with no record twice.
    ((stored, distinct),) = pg.sql(
        "SELECT count(*), count(DISTINCT record_id) FROM drift_predictionlog", "db_restart"
    )
    assert tally.batches >= 3 * CLIENTS and tally.sent == tally.accepted + tally.duplicates
    assert stored == distinct == tally.sent, (stored, distinct, tally.sent, tally.duplicates)
    # The tally of each stored batch matches the rows (refused batches were rolled back whole).
    ((tallied,),) = pg.sql(
        "SELECT coalesce(sum(accepted), 0) FROM drift_ingestionbatch WHERE kind = 'predictions'", "db_restart"
    )
    assert tallied == stored
