"""Fuzz the v1 API from its OpenAPI schema with schemathesis: no answer may be a 5xx.

Run by `scripts/fuzz-api` (which installs schemathesis into its own virtualenv, .venv/schemathesis; it is
never a project dependency). Steps: a scratch PostgreSQL database (its name must contain "fuzz"; dropped
and re-created, dropped again at the end), migrated; a viewer, an analyst and an admin with tokens; a
seeded model with a version, reference, predictions, outcomes, an analysis, a policy, a channel and an
incident; gunicorn with two workers on loopback (production settings, tasks run in-process); then
schemathesis twice with a fixed seed: as the analyst with path parameters pinned to the seeded objects
(so cases reach past the 404s into the handlers), and as the viewer with free path parameters. It
prints each run's case count and the total, shows the server's tracebacks of any 5xx, and exits
non-zero if a case found one or fewer cases ran than `--min-cases`.

    scripts/fuzz-api [--database-url postgres://postgres@127.0.0.1:5432/driftwatch_fuzz] [--examples 15]
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv/bin/python"
SCHEMATHESIS = ROOT / ".venv/schemathesis/bin/schemathesis"

SEED_USERS = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
import json
out = {}
for name, role in (("alice", "analyst"), ("carol", "viewer"), ("dave", "admin")):
    user = User.objects.create_user(username=name, password=name + "-fuzz-pass")
    user.groups.add(Group.objects.get(name=role))
    out[role] = Token.objects.create(user=user).key
print(json.dumps(out))
"""

FEATURES = [
    {"name": "income", "type": "numeric", "min": 0, "max": 1_000_000},
    {"name": "region", "type": "categorical", "categories": ["north", "south", "east", "west"]},
    {"name": "has_default", "type": "boolean"},
    {"name": "gender", "type": "categorical", "role": "sensitive", "categories": ["f", "m", "x"]},
    {"name": "customer_ref", "type": "categorical", "pii": "hash"},
]


def log(message: str) -> None:
    print(f"== {message}", flush=True)


@contextlib.contextmanager
def scratch_database(url: str, keep: bool) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "fuzz" not in name:
        raise SystemExit(
            f"refusing to drop and re-create {name!r}: the scratch database's name must contain 'fuzz'"
        )
    admin = urlunsplit(parts._replace(path="/postgres"))

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url
    finally:
        if not keep:
            drop()


def server_env(database_url: str, static_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    env.update(
        {
            "DATABASE_URL": database_url,
            # As in production: pages name collectstatic's hashed files (else every HTML 404 is a 500).
            "DJANGO_STATIC_ROOT": str(static_root),
            "CELERY_BROKER_URL": "",  # tasks (analyses, notifications) run in the request
            "CACHE_URL": "",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Fuzzed channels point anywhere: fail fast instead of waiting on unknown hosts.
            "DRIFTWATCH_NOTIFY_TIMEOUT_SECONDS": "1",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    answer = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if answer.returncode:
        raise SystemExit(f"manage.py {args[0]} failed:\n{answer.stdout}\n{answer.stderr}")
    return answer.stdout


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = free_port()
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "monitoring_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def call(base: str, token: str, method: str, path: str, body: object) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"seeding {method} {path} failed: {exc.code} {exc.read()[:500]!r}") from None


def seed(base: str, tokens: dict[str, str]) -> dict[str, object]:
    """Objects for the pinned path parameters, made through the API itself."""
    analyst, admin = tokens["analyst"], tokens["admin"]
    rng = Random(0)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)

    def features(i: int) -> dict:
        return {
            "income": round(rng.uniform(10_000, 90_000), 2),
            "region": rng.choice(["north", "south", "east", "west"]),
            "has_default": rng.random() < 0.2,
            "gender": rng.choice("fmx"),
            "customer_ref": f"C-{i:05d}",
        }

    call(
        base,
        analyst,
        "POST",
        "/api/v1/models/",
        {
            "slug": "credit-risk",
            "name": "Credit risk",
            "task": "binary_classification",
            "positive_label": "1",
            "business": {
                "kpi": "Approve good loans",
                "currency": "EUR",
                "value": {"tp": 1, "fp": -5, "tn": 1, "fn": -1},
            },
        },
    )
    call(
        base,
        analyst,
        "POST",
        "/api/v1/models/credit-risk/versions/",
        {
            "version": "v1",
            "stage": "production",
            "schema": {"features": FEATURES},
        },
    )
    reference = [
        {"features": features(i), "prediction": i % 2, "score": rng.random(), "label": i % 2}
        for i in range(300)
    ]
    call(base, analyst, "POST", "/api/v1/models/credit-risk/versions/v1/reference/", {"records": reference})
    records = [
        {
            "id": f"p-{i}",
            "timestamp": (hour + timedelta(minutes=i % 60)).isoformat().replace("+00:00", "Z"),
            "features": features(i),
            "prediction": i % 2,
            "score": rng.random(),
        }
        for i in range(200)
    ]
    call(
        base,
        analyst,
        "POST",
        "/api/v1/models/credit-risk/predictions/",
        {"version": "v1", "records": records},
    )
    labels = [{"prediction_id": f"p-{i}", "label": (i // 2) % 2} for i in range(200)]
    call(base, analyst, "POST", "/api/v1/models/credit-risk/outcomes/", {"records": labels})
    call(base, analyst, "POST", "/api/v1/models/credit-risk/health/", {"queue_depth": 2, "error_count": 0})
    policy = call(
        base,
        analyst,
        "POST",
        "/api/v1/models/credit-risk/policies/",
        {
            "name": "Drift guard",
            "reason": "fuzz seed",
            "rules": [
                {
                    "signal": "data_drift.share_drifted",
                    "op": ">",
                    "value": 0.0,
                    "severity": "critical",
                    "actions": [{"type": "open_event"}, {"type": "notify"}],
                }
            ],
        },
    )
    channel = call(
        base,
        analyst,
        "POST",
        "/api/v1/models/credit-risk/channels/",
        {
            "name": "hook",
            "kind": "webhook",
            "target": "http://127.0.0.1:9/unreachable",
            "min_severity": "info",
        },
    )
    window = {"window_start": hour.isoformat(), "window_end": (hour + timedelta(hours=1)).isoformat()}
    run = call(base, analyst, "POST", "/api/v1/models/credit-risk/analyses/", window)
    incident = call(
        base,
        analyst,
        "POST",
        "/api/v1/incidents/",
        {
            "model": "credit-risk",
            "title": "Seeded incident",
            "severity": "SEV3",
            "summary": "",
            "rollback_plan": "",
        },
    )
    call(
        base,
        admin,
        "PUT",
        "/api/v1/models/credit-risk/escalation/",
        {
            "steps": [{"channel": channel["id"], "after_minutes": 15}],
        },
    )
    return {"policy": policy["id"], "channel": channel["id"], "run": run["id"], "incident": incident["id"]}


def write_config(path: Path, pins: dict[str, object]) -> None:
    """Path parameters pinned to seeded objects. `pk` differs by operation, so each family gets its own."""
    lines = ["[parameters]", '"path.slug" = "credit-risk"', '"path.version" = "v1"', ""]
    for pattern, key in (
        ("^/api/v1/policies/", "policy"),
        ("^/api/v1/channels/", "channel"),
        ("^/api/v1/analyses/", "run"),
        ("^/api/v1/incidents/", "incident"),
        ("^/api/v1/events/", "event"),
    ):
        if key in pins:
            lines += [
                "[[operations]]",
                f'include-path-regex = "{pattern}"',
                f'parameters = {{ "path.pk" = {pins[key]} }}',
                "",
            ]
    path.write_text("\n".join(lines))


def first_event(database_url: str) -> int | None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT min(id) FROM governance_driftevent").fetchone()
    return row[0] if row and row[0] else None


def schemathesis(
    base: str,
    token: str,
    label: str,
    *,
    seed: int,
    examples: int,
    config: Path | None,
    phases: str,
    report: Path,
    timeout: float,
    only: str | None,
) -> tuple[int, int, str]:
    """Run schemathesis; (cases run, server errors found, its output)."""
    cmd = [str(SCHEMATHESIS)]
    if config is not None:
        cmd += ["--config-file", str(config)]
    cmd += [
        "run",
        f"{base}/api/schema/",
        "--checks",
        "not_a_server_error",
        "--header",
        f"Authorization: Token {token}",
        "--seed",
        str(seed),
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--suppress-health-check",
        "all",
    ]
    if only:
        cmd += ["--include-path-regex", only]
    log(f"schemathesis as the {label}")
    # Run from the report's directory: schemathesis keeps a cache (.schemathesis/) where it runs.
    answer = subprocess.run(cmd, cwd=report.parent, capture_output=True, text=True, timeout=timeout)
    output = answer.stdout + answer.stderr
    cases, failures = count_cases(output)
    if answer.returncode and not failures:
        failures = 1  # schemathesis failed without a summary (an error before or during the run)
    print(output[-6000:] if answer.returncode else output[-1500:], flush=True)
    return cases, failures, output


def count_cases(output: str) -> tuple[int, int]:
    """Test cases generated and unique failures, from schemathesis' summary, e.g. "Test cases:
    8390 generated, 8387 passed, 3 found 3 unique failures"."""
    summary = output[output.rfind("Test cases:") :]
    generated = re.search(r"(\d+) generated", summary)
    failures = re.search(r"(\d+) unique failures?", summary)
    return (int(generated.group(1)) if generated else 0, int(failures.group(1)) if failures else 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FUZZ_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/driftwatch_fuzz"),
    )
    parser.add_argument("--examples", type=int, default=15, help="cases per operation and phase (default 15)")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--min-cases", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per schemathesis run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--only", help="test only the paths matching this regular expression")
    args = parser.parse_args()
    if not SCHEMATHESIS.exists():
        raise SystemExit("schemathesis is not installed: run scripts/fuzz-api")

    workdir = Path(tempfile.mkdtemp(prefix="driftwatch-fuzz-"))
    keep_workdir = False
    try:
        with scratch_database(args.database_url, args.keep) as url:
            env = server_env(url, workdir / "static")
            log("migrate, collect static files, seed")
            manage(env, "migrate", "--noinput")
            manage(env, "collectstatic", "--noinput")
            tokens = json.loads(manage(env, "shell", "-c", SEED_USERS).strip().splitlines()[-1])
            server_log = workdir / "gunicorn.log"
            with gunicorn(env, server_log) as base:
                pins = seed(base, tokens)
                event = first_event(url)
                if event:
                    pins["event"] = event
                config = workdir / "schemathesis.toml"
                write_config(config, pins)
                totals, found = 0, 0
                runs = (
                    # The analyst may call everything: pinned objects, boundary values (coverage) and fuzzing.
                    ("analyst", tokens["analyst"], config, "examples,coverage,fuzzing"),
                    # The viewer's writes are refused before any parsing: fuzzing with free paths suffices.
                    ("viewer", tokens["viewer"], None, "fuzzing"),
                )
                for label, token, pinned, phases in runs:
                    started = time.monotonic()
                    cases, failures, _ = schemathesis(
                        base,
                        token,
                        label,
                        seed=args.seed,
                        examples=args.examples,
                        config=pinned,
                        phases=phases,
                        report=workdir / f"{label}.ndjson",
                        timeout=args.timeout,
                        only=args.only,
                    )
                    took = time.monotonic() - started
                    print(f"{label}: {cases} cases in {took:.0f} s, {failures} server errors", flush=True)
                    totals += cases
                    found += failures
            tracebacks = re.findall(
                r"(?ms)^.*Internal Server Error.*?(?=^\S.*(?:WARNING|ERROR)|\Z)", server_log.read_text()
            )
            if tracebacks:
                log(f"server errors logged by gunicorn ({len(tracebacks)}); the first ones:")
                for text in tracebacks[:5]:
                    print(text[-3000:])
        print(f"\nschemathesis: {totals} cases in all, {found} with a 5xx answer", flush=True)
        if found or tracebacks:
            keep_workdir = True
            raise SystemExit(f"server errors found; reports and the server log are in {workdir}")
        if totals < args.min_cases:
            raise SystemExit(f"only {totals} cases ran; at least {args.min_cases} were expected")
    finally:
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
