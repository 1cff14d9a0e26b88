"""Analysis throughput with one Celery worker and with two: the same batch of model-days, timed.

    .venv/bin/python bench/scale.py                       # 4 models x 4 days, 3 rounds, a few minutes
    .venv/bin/python bench/scale.py --models 2 --days 4   # 8 model-days

What it does (bench/README.md has the figure and how to read it):

1. Set-up (not timed): drops and re-creates a scratch PostgreSQL database (DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/driftwatch_scale_bench; its name must contain "bench"),
   migrates it, registers --models models (20 numeric and 5 categorical features, a segment and a
   sensitive attribute; a 5,000-row reference each, with a mean shift in the current data) and ingests
   --rows-per-day predictions per model and day for the --days days before today, every 5th with an
   outcome, through the ingestion services. Then it analyses every model-day once in-process, so the
   one-off work (reference profiles, learned thresholds, compacted fragments) is done before timing.
2. Each round re-requests the same model-days (a finished run is reset to pending) and times them with
   one `celery worker` subprocess (prefork, concurrency 1), then with two such subprocesses, on
   --broker-url (default redis://127.0.0.1:6379/7, purged before each phase): from enqueueing the runs
   to the last one finished, the workers started and answering before the clock starts.
3. Checks that every run finished "done" exactly once per phase (its attempt count rose by one) with
   its results stored, and prints each phase's time, the workers' CPU seconds, how busy the machine's
   CPUs were (whoever used them), and the speed-up.

Worker processes are stopped and the scratch database dropped on exit, also on errors, Ctrl-C, SIGTERM
and the overall --timeout. Exit status 0 when every phase verified, else 1.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import ROOT, VENV_BIN, child_pids, cpu_seconds, scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_scale_bench"
DEFAULT_BROKER = "redis://127.0.0.1:6379/7"
REFERENCE_ROWS = 5_000
BATCH = 5_000
LABEL_EVERY = 5
N_NUMERIC, N_CATEGORICAL = 20, 5


class Stopped(Exception):
    pass


def _on_signal(signum: int, _frame: Any) -> None:
    raise Stopped(f"stopped by {signal.Signals(signum).name}")


def setup_django(url: str, broker: str) -> None:
    os.environ["DATABASE_URL"] = url
    # A real broker for the timed phases; set-up runs tasks in-process (see `eager`).
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    os.environ.pop("DJANGO_DEBUG", None)
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


@contextmanager
def eager() -> Iterator[None]:
    """Tasks the set-up triggers (profile rebuilds after a reference upload) run in this process."""
    from monitoring_site.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


# --- data --------------------------------------------------------------------------------------------


def _schema(numeric: tuple[str, ...], categorical: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        *({"name": n, "type": "numeric"} for n in numeric),
        *({"name": n, "type": "categorical"} for n in categorical),
        {"name": "segment", "type": "categorical", "role": "segment"},
        {"name": "group", "type": "categorical", "role": "sensitive"},
    ]


def _rows(sample: Any, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> list[dict[str, Any]]:
    """Feature dicts as a client sends them (missing values as null)."""
    cols: dict[str, list[Any]] = {
        n: [None if v != v else v for v in sample.features[n].tolist()] for n in numeric
    }
    cols.update({n: sample.features[n].tolist() for n in categorical})
    cols["segment"], cols["group"] = sample.segment.tolist(), sample.sensitive.tolist()
    names = list(cols)
    return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]


def seed(models: int, days: int, per_day: int, first_day: datetime) -> list[tuple[Any, datetime]]:
    """Register the models, ingest their days; returns the (model, day) pairs to analyse."""
    from drift.scenarios import make_scenario
    from drift.services.ingestion import outcomes_ingest, predictions_ingest
    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    pairs = []
    for m in range(models):
        sc = make_scenario(
            "mean_shift",
            n_reference=REFERENCE_ROWS,
            n_current=days * per_day,
            n_numeric=N_NUMERIC,
            n_categorical=N_CATEGORICAL,
            seed=100 + m,
        )
        model = model_create(
            slug=f"scale-{m}",
            name=f"Scale {m}",
            task="binary_classification",
            owner="bench",
            positive_label="1",
        )
        version = version_create(
            model=model, version="v1", features=_schema(sc.numeric, sc.categorical), stage="production"
        )
        ref = sc.reference
        reference_upload(
            version=version,
            rows=[
                {"features": f, "prediction": p, "score": s, "label": y}
                for f, p, s, y in zip(
                    _rows(ref, sc.numeric, sc.categorical),
                    ref.prediction.tolist(),
                    ref.score.tolist(),
                    ref.y.tolist(),
                    strict=True,
                )
            ],
            source="json",
        )
        cur = sc.current
        features = _rows(cur, sc.numeric, sc.categorical)
        latencies = np.round(np.random.default_rng(m).gamma(4.0, 5.0, cur.n), 2).tolist()
        step = 86_400 / per_day
        for d in range(days):
            day = first_day + timedelta(days=d)
            records, outcomes = [], []
            for j in range(d * per_day, (d + 1) * per_day):
                when = day + timedelta(seconds=(j - d * per_day) * step)
                records.append(
                    {
                        "id": f"p{j:08d}",
                        "timestamp": when.isoformat().replace("+00:00", "Z"),
                        "features": features[j],
                        "prediction": int(cur.prediction[j]),
                        "score": float(cur.score[j]),
                        "latency_ms": latencies[j],
                    }
                )
                if j % LABEL_EVERY == 0:
                    outcomes.append({"prediction_id": f"p{j:08d}", "label": int(cur.y[j])})
            for lo in range(0, len(records), BATCH):
                got = predictions_ingest(model=model, version="v1", records=records[lo : lo + BATCH])
                if got.accepted != len(records[lo : lo + BATCH]):
                    raise RuntimeError(f"{model.slug} day {d}: {got.as_dict()}")
            for lo in range(0, len(outcomes), BATCH):
                outcomes_ingest(model=model, records=outcomes[lo : lo + BATCH])
            pairs.append((model, day))
    return pairs


def request_runs(pairs: list[tuple[Any, datetime]]) -> list[int]:
    """Pending runs of the model-days (a finished run is reset to pending, not duplicated)."""
    from drift.services.analyses import analysis_request

    return [
        analysis_request(model=model, window_start=day, window_end=day + timedelta(days=1), enqueue=False).pk
        for model, day in pairs
    ]


# --- workers -----------------------------------------------------------------------------------------


@dataclass
class Workers:
    procs: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def pids(self) -> list[int]:
        """Each worker's main process and its pool processes."""
        return [pid for p in self.procs for pid in (p.pid, *child_pids(p.pid))]


@contextmanager
def celery_workers(count: int, env: dict[str, str], startup_seconds: float = 90.0) -> Iterator[Workers]:
    """`count` real `celery worker` processes (prefork, concurrency 1), answering pings; stopped on exit."""
    from monitoring_site.celery import app

    procs, logs = [], []
    try:
        for k in range(count):
            log = Path(tempfile.mkstemp(prefix=f"bench-scale-worker{k}-", suffix=".log")[1])
            logs.append(log)
            cmd = [
                str(VENV_BIN / "celery"),
                "-A",
                "monitoring_site",
                "worker",
                "--loglevel",
                "WARNING",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                f"scale{k}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
                )
        deadline = time.monotonic() + startup_seconds
        while len(app.control.ping(timeout=1.0) or []) < count:
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = "".join(log.read_text()[-2000:] for log in logs)
                raise RuntimeError(f"workers did not start (exited: {len(dead)}):\n{tail}")
        yield Workers(procs, logs)
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except ProcessLookupError:
                    pass
        for log in logs:
            log.unlink(missing_ok=True)


@dataclass
class Phase:
    workers: int
    seconds: float
    worker_cpu: float  # the worker processes and their pool processes
    machine_busy: float  # share of all CPUs busy during the phase, whoever used them
    verified: bool
    note: str


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def timed_phase(count: int, run_ids: list[int], env: dict[str, str], timeout: float) -> Phase:
    from django.db import transaction

    from drift.models import AnalysisResult, AnalysisRun, RunStatus
    from drift.models.analysis import FINISHED_STATUSES
    from drift.services.analyses import enqueue_runs
    from monitoring_site.celery import app

    app.control.purge()
    attempts = dict(AnalysisRun.objects.filter(pk__in=run_ids).values_list("pk", "attempts"))
    with celery_workers(count, env) as workers:
        cpu_before, ticks_before = cpu_seconds(workers.pids()), cpu_ticks()
        start = time.perf_counter()
        with transaction.atomic():
            enqueue_runs(run_ids)  # sent when this block commits
        runs = AnalysisRun.objects.filter(pk__in=run_ids)
        while runs.exclude(status__in=FINISHED_STATUSES).exists():
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{count} worker(s): analyses not finished after {timeout:.0f} s")
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        worker_cpu = cpu_seconds(workers.pids()) - cpu_before
        ticks = cpu_ticks()
        busy = (ticks[0] - ticks_before[0]) / max(1, ticks[1] - ticks_before[1])
    done = dict(runs.filter(status=RunStatus.DONE).values_list("pk", "attempts"))
    with_results = set(AnalysisResult.objects.filter(run_id__in=run_ids).values_list("run_id", flat=True))
    once = all(done.get(pk) == attempts[pk] + 1 for pk in run_ids)
    verified = len(done) == len(run_ids) and once and with_results == set(run_ids)
    note = f"{len(done)}/{len(run_ids)} done, each once: {once}, with results: {len(with_results)}"
    return Phase(count, seconds, worker_cpu, busy, verified, note)


# --- main --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    url, broker = args.database_url, args.broker_url
    n = args.models * args.days
    print(
        f"{n} analyses ({args.models} models x {args.days} days, {args.rows_per_day:,} predictions a day); "
        f"1 vs 2 celery workers (prefork, concurrency 1); best of {args.rounds} rounds; "
        f"database {url.rsplit('@', 1)[-1]}, broker {broker.rsplit('@', 1)[-1]}"
    )
    with scratch_database(url, keep=args.keep_db):
        setup_django(url, broker)
        from django.core.management import call_command
        from django.db import connections

        from drift.models import AnalysisRun, RunStatus
        from drift.services.analyses import analysis_execute

        call_command("migrate", verbosity=0, interactive=False)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        t0 = time.perf_counter()
        with eager():
            pairs = seed(args.models, args.days, args.rows_per_day, today - timedelta(days=args.days))
        print(f"seeded {n * args.rows_per_day:,} predictions in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        with eager():
            ids = request_runs(pairs)
            for pk in ids:
                analysis_execute(run_id=pk)
        statuses = set(AnalysisRun.objects.filter(pk__in=ids).values_list("status", flat=True))
        if statuses != {RunStatus.DONE}:
            raise RuntimeError(f"warm-up analyses ended {statuses}")
        print(f"warm-up: {n} analyses in-process in {time.perf_counter() - t0:.1f} s (one-off work done)")
        connections.close_all()

        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        phases: dict[int, list[Phase]] = {1: [], 2: []}
        for k in range(1, args.rounds + 1):
            line = []
            for count in (1, 2):
                request_runs(pairs)
                phase = timed_phase(count, ids, env, timeout=args.phase_timeout)
                phases[count].append(phase)
                line.append(
                    f"{count} worker{'s' if count > 1 else ''} {phase.seconds:5.1f} s (workers' CPU "
                    f"{phase.worker_cpu:.1f} s, machine {phase.machine_busy:.0%} busy; {phase.note})"
                )
            one, two = phases[1][-1].seconds, phases[2][-1].seconds
            print(f"round {k}: " + "; ".join(line) + f"; speed-up {one / two:.2f}")

    best1 = min(p.seconds for p in phases[1])
    best2 = min(p.seconds for p in phases[2])
    print(f"1 worker   {best1:7.1f} s  {n / best1:5.2f} analyses/s  (best of {args.rounds})")
    print(f"2 workers  {best2:7.1f} s  {n / best2:5.2f} analyses/s  (best of {args.rounds})")
    median = statistics.median(a.seconds / b.seconds for a, b in zip(phases[1], phases[2], strict=True))
    print(
        f"speed-up   {best1 / best2:7.2f}x  two workers / one, best of each (median of per-round ratios "
        f"{median:.2f}); {os.cpu_count()} CPUs shared with PostgreSQL and the rest of the machine"
    )
    cpu = sum(p.worker_cpu for ps in phases.values() for p in ps) / (2 * args.rounds * n)
    busy = statistics.mean(p.machine_busy for ps in phases.values() for p in ps)
    print(
        f"CPU        {cpu:7.2f} s per analysis in the workers (the rest of each analysis is PostgreSQL and "
        f"waiting); the machine's CPUs were {busy:.0%} busy during the phases (everything on it)"
    )
    verified = all(p.verified for ps in phases.values() for p in ps)
    outcome = "verified" if verified else "NOT verified"
    print(f"every analysis done exactly once per phase, results stored: {outcome}")
    return 0 if verified else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=4, help="models (default 4)")
    parser.add_argument("--days", type=int, default=4, help="days per model (default 4)")
    parser.add_argument("--rows-per-day", type=int, default=5_000, help="predictions per model and day")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each figure is the best (default 3)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_URL),
        help="scratch database, dropped and re-created; its name must contain 'bench'",
    )
    parser.add_argument("--broker-url", default=DEFAULT_BROKER, help="Redis for the workers (purged)")
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for inspection")
    parser.add_argument("--phase-timeout", type=float, default=300, help="seconds one phase may take")
    parser.add_argument("--timeout", type=int, default=1200, help="overall limit in seconds (default 1200)")
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        # DATABASE_URL usually names a development database: never drop that one, use a scratch one.
        args.database_url = args.database_url.rsplit("/", 1)[0] + "/driftwatch_scale_bench"

    signal.signal(signal.SIGALRM, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.alarm(args.timeout)
    try:
        return run(args)
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())
