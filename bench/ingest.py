"""Ingestion throughput: predictions through the real HTTP API vs. psycopg binary COPY of the same rows.

    .venv/bin/python bench/ingest.py --rows 100000

What one round does (bench/README.md has the details and the figure we promise):

1. COPY: writes the N rows with psycopg binary COPY, one COPY and one commit per batch of 5,000, into
   ``bench_copy_fk``: the predictions table as it was before partitioning (``LIKE drift_predictionlog
   INCLUDING ALL`` as one plain table, plus the (model_id, record_id) unique index, an index per
   foreign-key column and the same foreign keys), so the database does the work per row the service did
   before migration drift.0007 (columns, defaults, indexes, unique constraint, foreign-key checks), a
   baseline that stays put across versions. For information it also COPYs into ``bench_copy_nofk``
   (the same without foreign keys).
2. API: posts the same N records, pre-encoded as JSON bodies of 5,000 records, from 2 client threads
   with token auth to a real gunicorn on loopback (2 sync workers, DJANGO_DEBUG unset, SSL redirect off,
   ALLOWED_HOSTS=127.0.0.1), each round to its own model, so every round stores exactly N rows.
3. Verifies every answer (accepted = batch size, 0 duplicates, 0 refused, flagged as injected) and
   that the model's rows are exactly N with N distinct ids.

Before the rounds it drops and re-creates a scratch database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/driftwatch_bench; its name must contain "bench"), migrates it,
registers the models (20 numeric and 5 categorical features, some with declared ranges or categories)
and an analyst with a personal API token, and generates N seeded records (about 1 % carry a value
outside its declared range, 0.5 % an undeclared category, 1 % a null).

The machine is shared (other processes, the client, the server and PostgreSQL on the same cores), so
each figure is the best of --rounds rounds; every round is printed too. The server is stopped and the
scratch database dropped on exit, also on errors, Ctrl-C, SIGTERM or the overall --timeout.
Exit status 0 when every round verified (and, with --require-ratio, the ratio was reached), else 1.
"""

import argparse
import http.client
import os
import random
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import Server, child_pids, cpu_seconds, gunicorn_server, scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_bench"
VERSION = "v1"
TABLE = "drift_predictionlog"
N_NUMERIC = 20
N_CATEGORICAL = 5
CATEGORIES = [
    ["north", "south", "east", "west"],
    ["gold", "silver", "bronze"],
    ["web", "app", "store", "phone"],
]


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


def make_records(
    n: int, seed: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, str] | None]]:
    """Seeded records and, for each, the value issues the service is expected to store (or None)."""
    rng = random.Random(seed)
    records, expected = [], []
    for i in range(n):
        feats: dict[str, Any] = {}
        for j in range(N_NUMERIC):
            # Integers and floats: both are JSON numbers a client really sends.
            feats[f"num_{j:02d}"] = rng.randint(0, 1000) if j % 4 == 0 else round(rng.uniform(0, 1000), 3)
        for j in range(N_CATEGORICAL):
            feats[f"cat_{j}"] = (
                rng.choice(CATEGORIES[j]) if j < len(CATEGORIES) else f"seg-{rng.randint(0, 40)}"
            )
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
        records.append(
            {
                "id": f"bench-{i:08d}",
                "timestamp": ts.isoformat().replace("+00:00", "Z"),
                "features": feats,
                "prediction": int(score > 0.5),
                "score": round(score, 6),
                "latency_ms": round(rng.uniform(2, 40), 2),
            }
        )
        expected.append(issues or None)
    return records, expected


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    os.environ.pop("DJANGO_DEBUG", None)
    import django

    django.setup()


def register(rounds: int, reference_rows: int) -> tuple[list[tuple[str, int, int]], str]:
    """Migrate; two models per round (profiles off, then on), each version with a reference so profile
    fragments carry real bins; an analyst with a token. Returns (slug, ids) per model and the key."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    call_command("migrate", verbosity=0, interactive=False)
    reference, _ = make_records(reference_rows, 999, datetime.now(UTC))
    reference = [
        {"features": r["features"], "prediction": r["prediction"], "score": r["score"]} for r in reference
    ]
    models = []
    for k in range(1, 2 * rounds + 1):
        model = model_create(
            slug=f"bench-{k}",
            name=f"Benchmark model {k}",
            task="binary_classification",
            owner="bench",
            positive_label="1",
        )
        mv = version_create(model=model, version=VERSION, features=feature_schema(), stage="production")
        reference_upload(version=mv, rows=reference, source="json")
        models.append((model.slug, model.pk, mv.pk))
    user = User.objects.create_user(username="bench-analyst", password=None)
    user.groups.add(Group.objects.get(name="analyst"))
    key = Token.objects.create(user=user).key
    connections.close_all()
    return models, key


@dataclass
class Phase:
    seconds: float  # wall clock
    client_cpu: float  # this process: the COPY client, or the HTTP client threads
    server_cpu: float  # gunicorn workers (0 for COPY)
    postgres_cpu: float  # the PostgreSQL backends serving the connections

    def per_row_us(self, rows: int) -> str:
        server = f"gunicorn {self.server_cpu / rows * 1e6:.0f} + " if self.server_cpu else ""
        postgres, client = self.postgres_cpu / rows * 1e6, self.client_cpu / rows * 1e6
        return f"{server}postgres {postgres:.0f} + client {client:.0f}"


@dataclass
class Round:
    copy_fk: Phase
    copy_nofk: Phase
    bare: Phase  # API with profiles switched off: the baseline profiles are measured against
    api: Phase  # API as shipped: rows and profile fragments in one transaction
    verified: bool


def count_fragments(url: str, model_id: int) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM drift_profilefragment f JOIN drift_modelversion v ON v.id = f.version_id "
            "WHERE v.model_id = %s",
            (model_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def create_copy_tables(url: str) -> None:
    with psycopg.connect(url) as conn:
        fks = [
            row[0]
            for row in conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                (TABLE,),
            )
        ]
        for table in ("bench_copy_nofk", "bench_copy_fk"):
            conn.execute(f"CREATE TABLE {table} (LIKE {TABLE} INCLUDING ALL)")
            # The table as it was before partitioning (migration 0007): one plain table whose
            # (model_id, record_id) unique index makes re-sent ids duplicates, plus an index per
            # foreign-key column. A fixed baseline, so figures compare across versions.
            conn.execute(f"ALTER TABLE {table} ADD UNIQUE (model_id, record_id)")
            conn.execute(f"CREATE INDEX ON {table} (model_id)")
            conn.execute(f"CREATE INDEX ON {table} (version_id)")
        for definition in fks:
            conn.execute(f"ALTER TABLE bench_copy_fk ADD {definition}")


def run_copy(
    url: str,
    table: str,
    records: list[dict[str, Any]],
    expected: list[dict[str, str] | None],
    model_id: int,
    version_id: int,
    batch_size: int,
) -> Phase:
    """Time the COPY of the records' rows in batches, one COPY and one commit each, like the API does.

    Rows are built before the clock starts; the JSON of the jsonb columns is encoded inside the timed
    loop (it is part of writing), with orjson, in jsonb's binary form, as the service does.
    """
    from psycopg.types.string import BytesBinaryDumper

    from drift.services.writers import COLUMN_TYPES, COLUMNS

    # jsonb's binary form is a version byte and the JSON text, built here with orjson and sent as bytes.
    jsonb_version = b"\x01"
    copy_types = ["bytea" if t == "jsonb" else t for t in COLUMN_TYPES]

    received = datetime.now(UTC)
    # (leading columns, features, prediction, middle columns, value_issues): the jsonb ones stay Python
    # values until the timed loop.
    rows = [
        (
            (model_id, version_id, r["id"], datetime.fromisoformat(r["timestamp"]), received),
            r["features"],
            r["prediction"],
            (r["score"], r["latency_ms"], "ok", None, None, False),
            issues,
        )
        for r, issues in zip(records, expected, strict=True)
    ]
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    dumps = orjson.dumps
    with psycopg.connect(url) as conn:
        conn.execute("CHECKPOINT")
        conn.commit()
        backend = [conn.info.backend_pid]
        cpu = time.process_time(), cpu_seconds(backend)
        start = time.perf_counter()
        for lo in range(0, len(rows), batch_size):
            with conn.cursor() as cur:
                cur.adapters.register_dumper(bytes, BytesBinaryDumper)  # the C dumper, as the service uses
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(copy_types)
                    write = copy.write_row
                    for head, feats, pred, middle, issues in rows[lo : lo + batch_size]:
                        jsonb_issues = None if issues is None else jsonb_version + dumps(issues)
                        write(
                            (
                                *head,
                                jsonb_version + dumps(feats),
                                jsonb_version + dumps(pred),
                                *middle,
                                jsonb_issues,
                                False,  # is_drill
                            )
                        )
            conn.commit()
        elapsed = time.perf_counter() - start
        phase = Phase(
            elapsed,
            client_cpu=time.process_time() - cpu[0],
            server_cpu=0.0,
            postgres_cpu=cpu_seconds(backend) - cpu[1],
        )
        stored = conn.execute(f"SELECT count(*) FROM {table} WHERE model_id = %s", (model_id,)).fetchone()[0]
    if stored != len(rows):
        raise RuntimeError(f"COPY into {table} stored {stored} rows, expected {len(rows)}")
    return phase


def client_backends(url: str) -> list[int]:
    """PostgreSQL backends of other connections to the database (the server's workers)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        ]


def run_api(
    server: Server, url: str, slug: str, token: str, bodies: list[bytes], clients: int, request_timeout: float
) -> tuple[Phase, list[dict[str, Any]]]:
    """Post every body from `clients` threads; returns the timing and the answers in batch order."""
    host, port = server.url.removeprefix("http://").split(":")
    path = f"/api/v1/models/{slug}/predictions/"
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    answers: list[Any] = [None] * len(bodies)
    failures: list[str] = []
    lock = threading.Lock()
    pending = iter(range(len(bodies)))

    def request(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(host, int(port), timeout=request_timeout)
        try:
            conn.request(method, url, body=body, headers=headers)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()

    def client() -> None:
        while not failures:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                status, payload = request("POST", path, bodies[index])
            except Exception as exc:  # reported below; the run then fails
                failures.append(f"batch {index}: {exc!r}")
                return
            if status != 200:
                failures.append(f"batch {index}: HTTP {status}: {payload[:300]!r}")
                return
            answers[index] = orjson.loads(payload)

    # Outside the timing: every worker loads the URL conf, DRF and the auth path once.
    for _ in range(4):
        status, _payload = request("GET", f"/api/v1/models/{slug}/")
        if status != 200:
            raise RuntimeError(f"warm-up request answered {status}")

    workers, backends = child_pids(server.pid), client_backends(url)
    cpu = time.process_time(), cpu_seconds(workers), cpu_seconds(backends)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    # Backends opened during the run (a worker's first connection) count from zero.
    new_backends = sorted(set(client_backends(url)) - set(backends))
    phase = Phase(
        elapsed,
        client_cpu=time.process_time() - cpu[0],
        server_cpu=cpu_seconds(workers) - cpu[1],
        postgres_cpu=cpu_seconds(backends) - cpu[2] + cpu_seconds(new_backends),
    )
    if failures:
        raise RuntimeError("API run failed: " + "; ".join(failures[:3]))
    return phase, answers


def verify(
    url: str, model_id: int, n: int, answers: list[dict[str, Any]], want_flagged: int
) -> tuple[bool, str]:
    accepted = sum(a["accepted"] for a in answers)
    duplicates = sum(a["duplicates"] for a in answers)
    refused = sum(len(a["rejected"]) for a in answers)
    flagged = sum(a["flagged"] for a in answers)
    with psycopg.connect(url) as conn:
        stored, distinct, with_issues = conn.execute(
            f"SELECT count(*), count(DISTINCT record_id), count(value_issues) FROM {TABLE} "
            "WHERE model_id = %s",
            (model_id,),
        ).fetchone()
    ok = (
        stored == distinct == accepted == n
        and duplicates == 0
        and refused == 0
        and flagged == want_flagged == with_issues
    )
    line = (
        f"stored {stored} of {n} rows (lost {n - distinct}, duplicated {stored - distinct}); answers: "
        f"accepted {accepted}, duplicates {duplicates}, refused {refused}, flagged {flagged} "
        f"(injected {want_flagged}) {'OK' if ok else 'FAILED'}"
    )
    return ok, line


def run(args: argparse.Namespace) -> int:
    url = args.database_url
    print(
        f"{args.rows} rows in batches of {args.batch_size}; {args.clients} client threads; gunicorn "
        f"{args.workers} x {args.worker_class}; best of {args.rounds} rounds; "
        f"database {url.rsplit('@', 1)[-1]}"
    )
    with scratch_database(url, keep=args.keep_db):
        setup_django(url)
        models, token = register(args.rounds, args.reference_rows)
        create_copy_tables(url)
        records, expected = make_records(args.rows, args.seed, datetime.now(UTC))
        want_flagged = sum(1 for e in expected if e)
        bodies = [
            orjson.dumps({"version": VERSION, "records": records[lo : lo + args.batch_size]})
            for lo in range(0, len(records), args.batch_size)
        ]
        mb = sum(map(len, bodies)) / 1e6
        print(f"prepared {len(bodies)} bodies, {mb:.1f} MB of JSON ({mb / len(bodies):.1f} MB each)")

        rounds: list[Round] = []
        n = args.rows
        server_env = {"DATABASE_URL": url}
        with (
            gunicorn_server(
                env={**server_env, "DRIFTWATCH_PROFILES_AT_INGEST": "false"},
                workers=args.workers,
                worker_class=args.worker_class,
            ) as bare_server,
            gunicorn_server(env=server_env, workers=args.workers, worker_class=args.worker_class) as server,
        ):
            for k in range(1, args.rounds + 1):
                slug_bare, model_bare, _ = models[2 * k - 2]
                slug, model_id, version_id = models[2 * k - 1]
                copy_fk = run_copy(
                    url, "bench_copy_fk", records, expected, model_id, version_id, args.batch_size
                )
                copy_nofk = run_copy(
                    url, "bench_copy_nofk", records, expected, model_id, version_id, args.batch_size
                )
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CHECKPOINT")
                bare, answers = run_api(
                    bare_server, url, slug_bare, token, bodies, args.clients, request_timeout=120
                )
                ok_bare, _ = verify(url, model_bare, n, answers, want_flagged)
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CHECKPOINT")
                api, answers = run_api(server, url, slug, token, bodies, args.clients, request_timeout=120)
                ok, line = verify(url, model_id, n, answers, want_flagged)
                fragments = count_fragments(url, model_id)
                rounds.append(Round(copy_fk, copy_nofk, bare, api, ok and ok_bare and fragments > 0))
                print(
                    f"round {k}: COPY {n / copy_fk.seconds:,.0f} rows/s "
                    f"(no FKs {n / copy_nofk.seconds:,.0f}), "
                    f"API {n / api.seconds:,.0f} rows/s (without profiles {n / bare.seconds:,.0f}), "
                    f"ratio {copy_fk.seconds / api.seconds:.2f}; {line}; {fragments} profile fragments"
                )
                print(
                    f"         CPU us/row: COPY {copy_fk.per_row_us(n)}; API {api.per_row_us(n)}; "
                    f"API without profiles {bare.per_row_us(n)}"
                )

        def best(attr: str) -> float:
            return n / min(getattr(r, attr).seconds for r in rounds)

        api_rate, copy_rate, nofk_rate = best("api"), best("copy_fk"), best("copy_nofk")
        bare_rate = best("bare")
        profile_ratio = api_rate / bare_rate
        ratio = api_rate / copy_rate
        median = statistics.median(r.copy_fk.seconds / r.api.seconds for r in rounds)
        print(
            f"COPY   {copy_rate:>9,.0f} rows/s  psycopg binary COPY, 1 connection, "
            "same table shape incl. foreign keys"
        )
        print(
            f"API    {api_rate:>9,.0f} rows/s  HTTP + token auth + validation + storage, "
            f"{args.clients} clients"
        )
        print(
            f"ratio  {ratio:>9.2f}  API / COPY (best of each; median of per-round ratios {median:.2f}; "
            "target >= 0.5)"
        )
        print(
            f"info   {nofk_rate:>9,.0f} rows/s  COPY into the same shape without foreign keys "
            f"(API / that = {api_rate / nofk_rate:.2f})"
        )
        print(
            f"profiles {profile_ratio:>7.2f}  API with profiles / without ({bare_rate:,.0f} rows/s without; "
            "target >= 0.8)"
        )
        verified = all(r.verified for r in rounds)
        print(
            f"stored {args.rows} rows per round, 0 lost, 0 duplicated: "
            f"{'verified' if verified else 'NOT verified'}"
        )
        if profile_ratio < 0.8:
            print(f"profiles cost too much: {profile_ratio:.2f} < 0.8")
            return 1
        if args.require_ratio is not None and ratio < args.require_ratio:
            print(f"ratio {ratio:.2f} is below the required {args.require_ratio}")
            return 1
        return 0 if verified else 1


class Stopped(Exception):
    pass


def _on_signal(signum: int, _frame: Any) -> None:
    raise Stopped(f"stopped by {signal.Signals(signum).name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="predictions per round (default 100000)")
    parser.add_argument("--batch-size", type=int, default=5_000, help="records per request and per COPY")
    parser.add_argument(
        "--reference-rows", type=int, default=5_000, help="reference rows per version (fixes profile bins)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each figure is the best (default 5)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_URL),
        help="scratch database, dropped and re-created; its name must contain 'bench'",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for inspection")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=int, default=900, help="overall limit in seconds (default 900)")
    parser.add_argument(
        "--require-ratio",
        type=float,
        default=None,
        help="exit 1 if API rows/s is below this multiple of COPY rows/s",
    )
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        # DATABASE_URL usually names a development database: never drop that one, use a scratch one.
        args.database_url = args.database_url.rsplit("/", 1)[0] + "/driftwatch_bench"

    signal.signal(signal.SIGALRM, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.alarm(args.timeout)
    try:
        return run(args)
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())
