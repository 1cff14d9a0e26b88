"""Sustained load: telemetry ingestion from several clients while people read dashboards and the API.

    .venv/bin/python bench/load.py --seconds 60

Drops and re-creates a scratch PostgreSQL database (DATABASE_URL or --database-url; its name must
contain "bench", else `driftwatch_load_bench` on the same server is used), migrates it, registers one
model (12 numeric and 3 categorical features, a 5,000-row reference), an analyst with a password and a
token, ingests a day of history and analyses it, so the pages have something to draw. Then gunicorn
(--workers, default 3, sync; production settings with plain-HTTP cookies and collectstatic's files)
serves, for --seconds:

- --ingest-clients threads (default 4), each posting fresh batches of --batch records (default 200;
  every record id is new) to `POST /api/v1/models/{slug}/predictions/` with the token, back to back,
  retrying a batch on 503 or a dropped connection as an integration should;
- --readers threads (default 2), each cycling through the portfolio page, the model's page (signed in
  with a session) and five API reads (models, model, predictions page, serving decision, analyses).

It prints, for ingestion and for reads: requests/s, rows/s, p50/p99 latency and errors (any answer
other than 200, or a dropped connection); then checks the table: rows stored = rows accepted = record
ids sent, with no id twice (0 lost, 0 duplicated). Exit status 1 on errors or a mismatch. The server is
stopped and the database dropped on exit, also on errors, Ctrl-C or --timeout.
"""

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import requests
from _server import ROOT, gunicorn_server, scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_load_bench"
SLUG, VERSION = "load-model", "v1"
PASSWORD = "load-analyst-pass-1"
N_NUMERIC, CATEGORIES = 12, [["north", "south", "east", "west"], ["web", "app", "phone"], ["a", "b"]]


class Stopped(Exception):
    pass


def features(rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {f"num_{j:02d}": round(rng.gauss(100 + j, 15), 3) for j in range(N_NUMERIC)}
    values.update({f"cat_{j}": rng.choice(c) for j, c in enumerate(CATEGORIES)})
    return values


def schema() -> list[dict[str, Any]]:
    return [{"name": f"num_{j:02d}", "type": "numeric"} for j in range(N_NUMERIC)] + [
        {"name": f"cat_{j}", "type": "categorical", "categories": c} for j, c in enumerate(CATEGORIES)
    ]


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def prepare(url: str, reference_rows: int, history_rows: int) -> str:
    """Migrate and seed in this process (Django, eager tasks); the analyst's token."""
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "monitoring_site.settings"})
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.pop("DJANGO_DEBUG", None)
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from drift.services.analyses import analysis_execute, analysis_request
    from drift.services.ingestion import predictions_ingest
    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(1)
    model = model_create(
        slug=SLUG, name="Load model", task="binary_classification", owner="bench", positive_label="1"
    )
    version = version_create(model=model, version=VERSION, features=schema(), stage="production")
    reference_upload(
        version=version,
        rows=[
            {"features": features(rng), "prediction": i % 2, "score": rng.random()}
            for i in range(reference_rows)
        ],
        source="json",
    )
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    history = [
        {
            "id": f"history-{i}",
            "timestamp": iso(day + timedelta(seconds=i * 86_400 / history_rows)),
            "features": features(rng),
            "prediction": i % 2,
            "score": rng.random(),
        }
        for i in range(history_rows)
    ]
    for b in range(0, history_rows, 5_000):
        predictions_ingest(model=model, version=VERSION, records=history[b : b + 5_000])
    for hours in range(0, 24, 6):
        run = analysis_request(
            model=model,
            window_start=day + timedelta(hours=hours),
            window_end=day + timedelta(hours=hours + 6),
            enqueue=False,
        )
        analysis_execute(run_id=run.pk)
    user = User.objects.create_user(username="load-analyst", password=PASSWORD)
    user.groups.add(Group.objects.get(name="analyst"))
    token = Token.objects.create(user=user).key
    connections.close_all()
    return token


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    rows: int = 0  # ingestion: accepted
    sent: int = 0  # ingestion: distinct record ids sent
    duplicates: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def add(self, seconds: float, kind: str = "") -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.requests += 1
            if kind:
                self.by_kind.setdefault(kind, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:200])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ingest_client(
    n: int, base: str, token: str, batch: int, stop: threading.Event, stats: Stats, retry_for: float
) -> None:
    rng = random.Random(100 + n)
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json"})
    url = f"{base}/api/v1/models/{SLUG}/predictions/"
    # A few pre-encoded templates whose ids get a fresh prefix per batch: the client's JSON encoding
    # stays out of the way of the server it shares the machine with.
    stamp = iso(datetime.now(UTC) - timedelta(minutes=20))
    templates = [
        orjson.dumps(
            {
                "version": VERSION,
                "records": [
                    {
                        "id": f"@@B@@-{i:04d}",
                        "timestamp": stamp,
                        "features": features(rng),
                        "prediction": i % 2,
                        "score": round(rng.random(), 4),
                    }
                    for i in range(batch)
                ],
            }
        )
        for _ in range(4)
    ]
    k = 0
    while not stop.is_set():
        body = templates[k % len(templates)].replace(b"@@B@@", f"c{n}b{k:07d}".encode())
        k += 1
        deadline = time.monotonic() + retry_for
        while True:
            started = time.perf_counter()
            try:
                answer = session.post(url, data=body, timeout=60)
                status = answer.status_code
            except requests.RequestException as exc:
                status, answer = 0, None
                stats.error(f"ingest: {type(exc).__name__}")
            stats.add(time.perf_counter() - started)
            if status == 200:
                result = orjson.loads(answer.content)
                with stats.lock:
                    stats.rows += result["accepted"]
                    stats.duplicates += result["duplicates"]
                    stats.sent += batch
                break
            if status:
                stats.error(f"ingest: HTTP {status} {answer.text[:100]}")
            if status not in (0, 503) or time.monotonic() > deadline:
                break  # not retryable, or gave up: the check below will show the batch as not stored
            time.sleep(0.2)


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if csrf is None:
        raise RuntimeError(f"no CSRF token on the login page ({page.status_code})")
    answer = session.post(
        f"{base}/login/",
        data={"username": "load-analyst", "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return session


def reader(n: int, base: str, token: str, stop: threading.Event, stats: Stats) -> None:
    pages = sign_in(base)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    plan = [
        ("page", pages, "/"),
        ("page", pages, f"/models/{SLUG}/"),
        ("api", api, "/api/v1/models/"),
        ("api", api, f"/api/v1/models/{SLUG}/"),
        ("api", api, f"/api/v1/models/{SLUG}/predictions/?limit=100"),
        ("api", api, f"/api/v1/models/{SLUG}/serving-decision/"),
        ("api", api, f"/api/v1/models/{SLUG}/analyses/"),
    ]
    k = n
    while not stop.is_set():
        kind, session, path = plan[k % len(plan)]
        k += 1
        started = time.perf_counter()
        try:
            answer = session.get(base + path, timeout=60, allow_redirects=False)
            ok = answer.status_code == 200
            if not ok:
                stats.error(f"read {path}: HTTP {answer.status_code}")
        except requests.RequestException as exc:
            stats.error(f"read {path}: {type(exc).__name__}")
        stats.add(time.perf_counter() - started, kind)


def stored(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT p.record_id) FROM drift_predictionlog p "
            "JOIN drift_monitoredmodel m ON m.id = p.model_id "
            "WHERE m.slug = %s AND p.record_id NOT LIKE 'history-%%'",
            (SLUG,),
        ).fetchone()
    return int(row[0]), int(row[1])


def line(label: str, stats: Stats, seconds: float, rows: bool) -> str:
    lat = stats.latencies
    text = f"{label:<7} {stats.requests:>7,} requests  {stats.requests / seconds:>7.1f} req/s"
    if rows:
        text += f"  {stats.rows / seconds:>9,.0f} rows/s"
    text += (
        f"  p50 {percentile(lat, 0.5) * 1000:>6.0f} ms  p99 {percentile(lat, 0.99) * 1000:>6.0f} ms"
        f"  errors {len(stats.errors)}"
    )
    return text


@contextlib.contextmanager
def removed(path: Path) -> Iterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    with scratch_database(args.database_url, keep=args.keep_db) as url:
        started = time.monotonic()
        token = prepare(url, args.reference_rows, args.history_rows)
        static = Path(tempfile.mkdtemp(prefix="load-static-"))
        env = {
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": "",
            "DJANGO_STATIC_ROOT": str(static),
            # Plain HTTP on loopback: the session and CSRF cookies must come back without TLS.
            "DJANGO_SESSION_COOKIE_SECURE": "false",
            "DJANGO_CSRF_COOKIE_SECURE": "false",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
        )
        print(f"set-up: {time.monotonic() - started:.0f} s (migrate, reference, a day of history, analyses)")
        with gunicorn_server(env=env, workers=args.workers, timeout=120) as server, removed(static):
            ingest, reads, stop = Stats(), Stats(), threading.Event()
            threads = [
                threading.Thread(
                    target=ingest_client,
                    args=(n, server.url, token, args.batch, stop, ingest, args.retry_for),
                    daemon=True,
                )
                for n in range(args.ingest_clients)
            ] + [
                threading.Thread(target=reader, args=(n, server.url, token, stop, reads), daemon=True)
                for n in range(args.readers)
            ]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join(timeout=args.retry_for + 60)
            seconds = time.monotonic() - began
        rows, distinct = stored(url)

    print(
        f"\n{args.seconds:.0f} s, {args.ingest_clients} ingest clients (batches of {args.batch}), "
        f"{args.readers} readers, gunicorn {args.workers} sync workers, PostgreSQL"
    )
    print(line("ingest", ingest, seconds, rows=True))
    print(line("reads", reads, seconds, rows=False))
    for kind, values in sorted(reads.by_kind.items()):
        print(
            f"  {kind:<5} {len(values):>7,} requests  p50 {percentile(values, 0.5) * 1000:>6.0f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:>6.0f} ms"
        )
    for text in sorted(set(ingest.errors + reads.errors))[:10]:
        print(f"  error: {text}")
    lost, duplicated = ingest.sent - distinct, rows - distinct
    print(
        f"check: {ingest.sent:,} record ids sent, {ingest.rows:,} accepted, {rows:,} rows stored "
        f"({distinct:,} distinct): {lost} lost, {duplicated} duplicated"
    )
    ok = not ingest.errors and not reads.errors and lost == 0 and duplicated == 0 and rows == ingest.rows
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _on_signal(signum: int, _frame: Any) -> None:
    raise Stopped(f"stopped by {signal.Signals(signum).name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the load (default 60)")
    parser.add_argument("--ingest-clients", type=int, default=4, help="ingestion client threads (default 4)")
    parser.add_argument("--readers", type=int, default=2, help="dashboard and API reader threads (default 2)")
    parser.add_argument("--batch", type=int, default=200, help="records per ingestion request (default 200)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (default 3)")
    parser.add_argument("--reference-rows", type=int, default=5_000)
    parser.add_argument("--history-rows", type=int, default=20_000, help="a day of telemetry before the load")
    parser.add_argument("--retry-for", type=float, default=30, help="seconds a client retries a batch on 503")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_URL),
        help="scratch database, dropped and re-created; its name must contain 'bench'",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for inspection")
    parser.add_argument("--timeout", type=int, default=900, help="overall limit in seconds (default 900)")
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2")
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        # DATABASE_URL usually names a development database: never drop that one, use a scratch one.
        args.database_url = args.database_url.rsplit("/", 1)[0] + "/driftwatch_load_bench"
    signal.signal(signal.SIGALRM, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.alarm(args.timeout)
    try:
        return run(args)
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())
