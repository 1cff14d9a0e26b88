"""Ingestion throughput: predictions through the real HTTP API vs. psycopg binary COPY of the same rows.

    .venv/bin/python bench/ingest.py --rows 100000

What it does (bench/README.md has the details and the figure we promise):

1. drops and re-creates a scratch PostgreSQL database (DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/driftwatch_bench) and migrates it;
2. registers a model and a version with 20 numeric and 5 categorical features (some with declared
   ranges or categories), and an analyst user with a personal API token;
3. generates N seeded prediction records (about 1 % carry a value outside its declared range, about
   1 % a null) and pre-encodes the batches (5,000 records each) before any timing;
4. COPY: writes the same rows with psycopg binary COPY, one COPY and one commit per batch, into
   ``bench_copy_scratch (LIKE drift_predictionlog INCLUDING ALL)`` — same columns, same indexes;
5. API: starts gunicorn on loopback (2 sync workers, DJANGO_DEBUG unset, SSL redirect off,
   ALLOWED_HOSTS=127.0.0.1) and posts the batches with token auth from 2 client threads;
6. verifies every answer (accepted = batch size, 0 duplicates, 0 refused, flagged as injected) and
   that the table holds exactly N rows with N distinct ids; prints rows/s of each and the ratio.

The server is stopped and the scratch database dropped on exit, also on errors, Ctrl-C or the
overall time limit (--timeout). Exit status 0 when the run verified, 1 otherwise; the throughput
target is reported, not enforced (machines differ), unless --require-ratio is given.
"""

import argparse
import http.client
import os
import random
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import gunicorn_server, scratch_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_bench"
SLUG = "bench-model"
VERSION = "v1"
SCRATCH = "bench_copy_scratch"
N_NUMERIC = 20
N_CATEGORICAL = 5
CATEGORIES = [["north", "south", "east", "west"], ["gold", "silver", "bronze"], ["web", "app", "store", "phone"]]


def feature_schema() -> list[dict[str, Any]]:
    """20 numeric features (every other one with a declared range) and 5 categorical ones (3 declared)."""
    features: list[dict[str, Any]] = []
    for j in range(N_NUMERIC):
        spec: dict[str, Any] = {"name": f"num_{j:02d}", "type": "numeric"}
        if j % 2 == 0:
            spec.update(min=0, max=1000)
        if j % 5 == 0:
            spec["nullable"] = False
        features.append(spec)
    for j in range(N_CATEGORICAL):
        spec = {"name": f"cat_{j}", "type": "categorical"}
        if j < len(CATEGORIES):
            spec["categories"] = CATEGORIES[j]
        features.append(spec)
    return features


def make_records(n: int, seed: int, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, str] | None]]:
    """Seeded records and, for each, the value issues the service is expected to store (or None)."""
    rng = random.Random(seed)
    records, expected = [], []
    for i in range(n):
        feats: dict[str, Any] = {}
        for j in range(N_NUMERIC):
            # Half integers, half floats: both are JSON numbers a client really sends.
            feats[f"num_{j:02d}"] = rng.randint(0, 1000) if j % 4 == 0 else round(rng.uniform(0, 1000), 3)
        for j in range(N_CATEGORICAL):
            feats[f"cat_{j}"] = rng.choice(CATEGORIES[j]) if j < len(CATEGORIES) else f"seg-{rng.randint(0, 40)}"
        issues: dict[str, str] = {}
        roll = rng.random()
        if roll < 0.01:
            feats["num_02"] = 1000 + rng.uniform(1, 50)  # declared max is 1000
            issues["num_02"] = "out_of_range"
        elif roll < 0.02:
            feats["num_03"] = None  # nullable: stored, no issue
        elif roll < 0.025:
            feats["cat_1"] = "platinum"  # never declared
            issues["cat_1"] = "undeclared_category"
        ts = now - timedelta(seconds=rng.randint(0, 3600), microseconds=rng.randint(0, 999_999))
        score = rng.random()
        records.append({
            "id": f"bench-{i:08d}",
            "timestamp": ts.isoformat().replace("+00:00", "Z"),
            "features": feats,
            "prediction": int(score > 0.5),
            "score": round(score, 6),
            "latency_ms": round(rng.uniform(2, 40), 2),
        })
        expected.append(issues or None)
    return records, expected


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    os.environ.pop("DJANGO_DEBUG", None)
    import django

    django.setup()


def register(username: str = "bench-analyst") -> tuple[int, int, str]:
    """Migrate, register the model and version, create the analyst and a token; returns ids and the key."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from drift.services.registry import model_create, version_create

    call_command("migrate", verbosity=0, interactive=False)
    model = model_create(slug=SLUG, name="Benchmark model", task="binary_classification", owner="bench",
                         positive_label="1")
    mv = version_create(model=model, version=VERSION, features=feature_schema(), stage="production")
    user = User.objects.create_user(username=username, password=None)
    user.groups.add(Group.objects.get(name="analyst"))
    token = Token.objects.create(user=user)
    return model.pk, mv.pk, token.key


def copy_rows(records: list[dict[str, Any]], expected: list[dict[str, str] | None], model_id: int,
              version_id: int, received_at: datetime) -> list[tuple[Any, ...]]:
    return [
        (model_id, version_id, r["id"], datetime.fromisoformat(r["timestamp"]), received_at, r["features"],
         r["prediction"], r["score"], r["latency_ms"], "ok", None, None, False, issues)
        for r, issues in zip(records, expected, strict=True)
    ]


def run_copy(url: str, rows: list[tuple[Any, ...]], batch_size: int) -> float:
    """Seconds to COPY `rows` in batches (one COPY and commit each) into a table shaped like the real one."""
    import psycopg
    from psycopg.types.json import set_json_dumps

    from drift.services.writers import COLUMNS, COLUMN_TYPES

    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE {SCRATCH} (LIKE drift_predictionlog INCLUDING ALL)")
        conn.commit()
        conn.execute("CHECKPOINT")
        conn.commit()
        set_json_dumps(orjson.dumps, conn)
        start = time.perf_counter()
        for lo in range(0, len(rows), batch_size):
            with conn.cursor() as cur, cur.copy(f"COPY {SCRATCH} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(COLUMN_TYPES))
                for row in rows[lo : lo + batch_size]:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - start
        stored = conn.execute(f"SELECT count(*) FROM {SCRATCH}").fetchone()[0]
    if stored != len(rows):
        raise RuntimeError(f"COPY stored {stored} rows, expected {len(rows)}")
    return elapsed


def run_api(base_url: str, token: str, bodies: list[bytes], clients: int,
            request_timeout: float) -> tuple[float, list[dict[str, Any]]]:
    """Post every body from `clients` threads; returns wall seconds and the answers in batch order."""
    host, port = base_url.removeprefix("http://").split(":")
    path = f"/api/v1/models/{SLUG}/predictions/"
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    answers: list[Any] = [None] * len(bodies)
    failures: list[str] = []
    lock = threading.Lock()
    pending = iter(range(len(bodies)))

    def post(index: int) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(host, int(port), timeout=request_timeout)
        try:
            conn.request("POST", path, body=bodies[index], headers=headers)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()

    def client() -> None:
        while True:
            with lock:
                index = next(pending, None)
            if index is None or failures:
                return
            try:
                status, payload = post(index)
            except Exception as exc:  # reported below; the run then fails
                failures.append(f"batch {index}: {exc!r}")
                return
            if status != 200:
                failures.append(f"batch {index}: HTTP {status}: {payload[:500]!r}")
                return
            answers[index] = orjson.loads(payload)

    # Warm-up outside the timing: both workers load the URL conf, DRF and the auth path.
    for _ in range(2 * clients):
        conn = http.client.HTTPConnection(host, int(port), timeout=request_timeout)
        conn.request("GET", f"/api/v1/models/{SLUG}/", headers=headers)
        if conn.getresponse().status != 200:
            raise RuntimeError("warm-up request failed")
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError("API run failed: " + "; ".join(failures[:3]))
    return elapsed, answers


def stored_counts(url: str, model_id: int) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT record_id), count(value_issues) FROM drift_predictionlog "
            "WHERE model_id = %s",
            (model_id,),
        ).fetchone()


class Timeout(Exception):
    pass


def _on_signal(signum: int, _frame: Any) -> None:
    raise Timeout(f"stopped by {signal.Signals(signum).name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="predictions to send (default 100000)")
    parser.add_argument("--batch-size", type=int, default=5_000, help="records per request / per COPY")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL),
                        help="scratch database; its name must contain 'bench' (it is dropped)")
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for inspection")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=int, default=900, help="overall limit in seconds (default 900)")
    parser.add_argument("--require-ratio", type=float, default=None,
                        help="exit 1 if API rows/s is below this multiple of COPY rows/s")
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        # DATABASE_URL often points at a development database: never drop that.
        args.database_url = args.database_url.rsplit("/", 1)[0] + "/driftwatch_bench"

    signal.signal(signal.SIGALRM, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.alarm(args.timeout)
    try:
        return run(args)
    finally:
        signal.alarm(0)


def run(args: argparse.Namespace) -> int:
    url = args.database_url
    print(f"database {url.rsplit('@', 1)[-1]}, {args.rows} rows in batches of {args.batch_size}, "
          f"{args.clients} client threads, gunicorn {args.workers} x {args.worker_class}")
    with scratch_database(url, keep=args.keep_db):
        setup_django(url)
        model_id, version_id, token = register()
        now = datetime.now(UTC)
        records, expected = make_records(args.rows, args.seed, now)
        batches = [records[lo : lo + args.batch_size] for lo in range(0, len(records), args.batch_size)]
        bodies = [orjson.dumps({"version": VERSION, "records": batch}) for batch in batches]
        rows = copy_rows(records, expected, model_id, version_id, now)
        mb = sum(map(len, bodies)) / 1e6
        print(f"prepared {len(bodies)} bodies ({mb:.1f} MB of JSON, {mb / len(bodies):.1f} MB each)")

        copy_seconds = run_copy(url, rows, args.batch_size)
        del rows
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")

        with gunicorn_server(env={"DATABASE_URL": url}, workers=args.workers,
                             worker_class=args.worker_class) as base_url:
            api_seconds, answers = run_api(base_url, token, bodies, args.clients, request_timeout=120)

        accepted = sum(a["accepted"] for a in answers)
        duplicates = sum(a["duplicates"] for a in answers)
        refused = sum(len(a["rejected"]) for a in answers)
        flagged = sum(a["flagged"] for a in answers)
        stored, distinct, with_issues = stored_counts(url, model_id)
        want_flagged = sum(1 for e in expected if e)

        api_rate = args.rows / api_seconds
        copy_rate = args.rows / copy_seconds
        ratio = api_rate / copy_rate
        print(f"COPY  {copy_rate:>10,.0f} rows/s  ({copy_seconds:.2f} s, psycopg binary COPY, 1 connection)")
        print(f"API   {api_rate:>10,.0f} rows/s  ({api_seconds:.2f} s, HTTP + auth + validation + storage)")
        print(f"ratio {ratio:>10.2f}  (API / COPY)")
        print(f"answers: accepted {accepted}, duplicates {duplicates}, refused {refused}, "
              f"flagged {flagged} (injected {want_flagged})")
        print(f"stored rows {stored} of {args.rows} (distinct ids {distinct}, lost {args.rows - distinct}, "
              f"duplicated {stored - distinct}), rows with value issues {with_issues}")
        ok = (stored == distinct == accepted == args.rows and duplicates == 0 and refused == 0
              and flagged == want_flagged == with_issues)
        print("verified: OK" if ok else "verified: FAILED")
        if args.require_ratio is not None and ratio < args.require_ratio:
            print(f"ratio {ratio:.2f} is below the required {args.require_ratio}")
            ok = False
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
