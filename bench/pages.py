"""Model page server time with many predictions stored, against an empty model's (issue 5: at most 2x).

    .venv/bin/python bench/pages.py                               # 1,000,000 predictions over 14 days
    .venv/bin/python bench/pages.py --rows 10000000 --keep        # the issue's 10M (set-up: an hour or more)
    .venv/bin/python bench/pages.py --rows 10000000 --keep        # again: reuses the stored rows, minutes

Into PostgreSQL (DATABASE_URL or --database-url), in this process:

1. Three models with the same schema (`drift.scenarios` "mean_shift", 10 numeric + 3 categorical
   features, a segment and a sensitive attribute) and a 5,000-row reference each: **busy** gets --rows
   predictions spread evenly over --days days (generated and stored 500,000 at a time through
   `predictions_ingest`, 5,000 per batch; every 5th gets an outcome), **quiet** 20 predictions a day
   over the same days, **empty** none (registered, with its reference: its page is the "not analysed
   yet" state).
2. Every complete day of busy and quiet is analysed in-process (`analysis_request` +
   `analysis_execute`), so busy and quiet chart the same windows.
3. Times the pages through Django's full stack (test client, every middleware, templates), signed in
   as a viewer: each model's page, executive and technical views, and for information the weekly
   report and the portfolio; --requests rounds after one warm-up request, the URLs in turn, so a slow
   moment of the shared machine falls on all of them alike. The figure is the median. Also: the SQL
   queries of one request and their time, and each busy page once with the page cache cleared (cold).

Promise: the busy model's page takes at most 2x the empty model's, in both views. For information,
busy against quiet: the same windows with ~25,000x fewer rows behind them, which shows the page cost
follows windows and features, not rows (pages read analyses and profiles, never raw predictions).
Exit status 1 when the promise is missed.

Database: without --keep, a scratch database whose name must contain "bench" (else
driftwatch_bench_pages on the same server) is dropped and re-created first and dropped on exit. With
--keep, the database is created when missing and never dropped (any name: nothing is dropped), and a
later run reuses what it holds: busy is topped up to --rows (the new rows a second stream over the same
days) and its days re-analysed; it is never shrunk.
"""

import argparse
import contextlib
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _server import scratch_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_bench_pages"
CHUNK = 500_000  # scenario rows generated at a time: bounds this process's memory at 10M rows
BATCH = 5_000
LABEL_EVERY = 5
REFERENCE_ROWS = 5_000
QUIET_PER_DAY = 20
MAX_RATIO = 2.0
VIEWS = {"executive": "/models/{}/", "technical": "/models/{}/?view=technical"}
SLUGS = ("busy", "quiet", "empty")


@contextlib.contextmanager
def kept_database(url: str) -> Iterator[str]:
    """Create the database named in `url` unless it exists; never drop it."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url


def schema(sc: Any) -> list[dict[str, Any]]:
    out = [{"name": n, "type": "numeric"} for n in sc.numeric]
    out += [{"name": n, "type": "categorical"} for n in sc.categorical]
    out += [
        {"name": "segment", "type": "categorical", "role": "segment"},
        {"name": "group", "type": "categorical", "role": "sensitive"},
    ]
    return out


def columns(sample: Any, sc: Any) -> list[dict[str, Any]]:
    cols: dict[str, list[Any]] = {
        n: [None if v != v else v for v in sample.features[n].tolist()] for n in sc.numeric
    }
    cols.update({n: sample.features[n].tolist() for n in sc.categorical})
    cols["segment"], cols["group"] = sample.segment.tolist(), sample.sensitive.tolist()
    names = list(cols)
    return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]


def register(slug: str, sc: Any, start: datetime) -> Any:
    from drift.models import MonitoredModel
    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    found = MonitoredModel.objects.filter(slug=slug).first()
    if found is not None:
        return found
    model = model_create(
        slug=slug,
        name=slug.title(),
        task="binary_classification",
        owner="bench",
        # A later --keep run finds its days here.
        description=f"bench/pages.py model; data from {start.isoformat()}",
        positive_label="1",
        business={
            "kpi": "",
            "currency": "EUR",
            "value": {"tp": 100.0, "fp": -20.0, "tn": 10.0, "fn": -100.0},
        },
    )
    version = version_create(model=model, version="v1", features=schema(sc), stage="production")
    ref = sc.reference
    reference_upload(
        version=version,
        rows=[
            {"features": f, "prediction": p, "score": s, "label": y}
            for f, p, s, y in zip(
                columns(ref, sc), ref.prediction.tolist(), ref.score.tolist(), ref.y.tolist(), strict=True
            )
        ],
        source="json",
    )
    return model


def stored_rows(model: Any) -> int:
    from drift.models import PredictionLog

    return PredictionLog.objects.filter(model=model).count()


def feed(model: Any, first: int, n: int, start: datetime, days: int, seed: int) -> tuple[int, float]:
    """Predictions `first` … `first + n - 1`, spread evenly over `days` from `start` in time order (one
    stream), every 5th labelled. Returns (rows stored, seconds)."""
    from drift.scenarios import make_scenario
    from drift.services.ingestion import outcomes_ingest, predictions_ingest

    t0 = time.perf_counter()
    step = days * 86_400 / max(n, 1)
    stored = 0
    for k, lo in enumerate(range(0, n, CHUNK)):
        size = min(CHUNK, n - lo)
        sc = make_scenario(
            "mean_shift", n_reference=10, n_current=size, n_numeric=10, n_categorical=3, seed=seed + k
        )
        cur = sc.current
        feats = columns(cur, sc)
        latencies = np.random.default_rng(seed + k).gamma(4.0, 5.0, size).round(2).tolist()
        for b in range(0, size, BATCH):
            records, outcomes = [], []
            for j in range(b, min(b + BATCH, size)):
                i = lo + j
                rid = f"{model.slug}-{first + i:09d}"
                ts = datetime.fromtimestamp(start.timestamp() + i * step, tz=UTC)
                records.append(
                    {
                        "id": rid,
                        "timestamp": ts.isoformat().replace("+00:00", "Z"),
                        "features": feats[j],
                        "prediction": int(cur.prediction[j]),
                        "score": float(cur.score[j]),
                        "latency_ms": latencies[j],
                    }
                )
                if (first + i) % LABEL_EVERY == 0:
                    outcomes.append({"prediction_id": rid, "label": int(cur.y[j])})
            answer = predictions_ingest(model=model, version="v1", records=records, submitted_by="bench")
            stored += answer.accepted
            if outcomes:
                outcomes_ingest(model=model, records=outcomes, submitted_by="bench")
        done = lo + size
        rate = stored / (time.perf_counter() - t0)
        print(f"  {model.slug}: {first + done:,} predictions stored ({rate:,.0f} rows/s)", flush=True)
        del feats, sc, cur
    return stored, time.perf_counter() - t0


def analyse(model: Any, start: datetime, days: int) -> int:
    from drift.engine.windows import split
    from drift.services.analyses import analysis_execute, analysis_request

    done = 0
    for lo, hi in split("daily", start, start + timedelta(days=days)):
        run = analysis_request(model=model, window_start=lo, window_end=hi, enqueue=False)
        done += (analysis_execute(run_id=run.pk) or run).status == "done"
    return done


def data_start(days: int) -> datetime:
    """Where the data begins: recorded on the busy model when there is one (--keep), else --days ago."""
    from drift.models import MonitoredModel

    found = MonitoredModel.objects.filter(slug="busy").values_list("description", flat=True).first()
    if found and "data from " in found:
        return datetime.fromisoformat(found.rsplit("data from ", 1)[1])
    return (datetime.now(UTC) - timedelta(days=days + 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def set_up(rows: int, days: int) -> dict[str, Any]:
    from drift.models import AnalysisRun
    from drift.scenarios import make_scenario

    sc = make_scenario(
        "mean_shift", n_reference=REFERENCE_ROWS, n_current=10, n_numeric=10, n_categorical=3, seed=1
    )
    start = data_start(days)
    busy, quiet, empty = (register(slug, sc, start) for slug in SLUGS)
    have = stored_rows(busy)
    info: dict[str, Any] = {"start": start, "loaded": 0, "load_seconds": 0.0}
    if have < rows:
        # A new stream over the same days (seed by where it starts, so two streams differ).
        info["loaded"], info["load_seconds"] = feed(busy, have, rows - have, start, days, seed=2 + have)
    if not stored_rows(quiet):
        feed(quiet, 0, QUIET_PER_DAY * days, start, days, seed=3)
    if info["loaded"] or not AnalysisRun.objects.filter(model=busy, status="done").exists():
        analyse(busy, start, days)
    if not AnalysisRun.objects.filter(model=quiet, status="done").exists():
        analyse(quiet, start, days)
    info["rows"] = {m.slug: stored_rows(m) for m in (busy, quiet, empty)}
    info["windows"] = {
        m.slug: AnalysisRun.objects.filter(model=m, status="done", kind="analysis").count()
        for m in (busy, quiet, empty)
    }
    return info


def query_log(client: Any, url: str) -> tuple[int, float, list[tuple[float, str]]]:
    """(queries, milliseconds in SQL, slowest five) of one request."""
    from django.db import connection

    seen: list[tuple[float, str]] = []

    def count(execute: Any, sql_text: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            seen.append(((time.perf_counter() - t0) * 1000, sql_text))

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200, url
    return len(seen), sum(t for t, _ in seen), sorted(seen, reverse=True)[:5]


def timed(client: Any, urls: list[str], rounds: int) -> dict[str, float]:
    """{url: median milliseconds}, the urls requested in turn, round after round."""
    for url in urls:
        assert client.get(url).status_code == 200, url  # warm-up
    times: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(rounds):
        for url in urls:
            t0 = time.perf_counter()
            response = client.get(url)
            times[url].append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, url
    return {url: statistics.median(times[url]) for url in urls}


def cold(client: Any, url: str) -> float:
    """One request after clearing the cache: what the first reader after an analysis pays."""
    from django.core.cache import cache

    cache.clear()
    t0 = time.perf_counter()
    assert client.get(url).status_code == 200, url
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database and reuse its data")
    parser.add_argument("--profile", action="store_true", help="print cProfile of the busy pages")
    args = parser.parse_args()
    url = args.database_url
    if args.keep:
        database = kept_database(url)
    else:
        database = scratch_database(url if "bench" in url.rsplit("/", 1)[-1] else DEFAULT_URL)
    with database as db:
        os.environ.update(DATABASE_URL=db, DJANGO_SETTINGS_MODULE="monitoring_site.settings")
        os.environ.pop("CELERY_BROKER_URL", None)  # analyses run in this process
        os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django.test import Client

        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SECURE_SSL_REDIRECT = False
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        info = set_up(args.rows, args.days)
        loaded = (
            f"; loaded {info['loaded']:,} predictions in {info['load_seconds']:.0f} s "
            f"({info['loaded'] / max(info['load_seconds'], 1e-9):,.0f} rows/s)"
            if info["loaded"]
            else " (reused)"
        )
        print(
            f"set-up {time.perf_counter() - t0:.0f} s{loaded}: stored predictions "
            + ", ".join(f"{s} {n:,}" for s, n in info["rows"].items())
            + "; analysed windows "
            + ", ".join(f"{s} {n}" for s, n in info["windows"].items()),
            flush=True,
        )
        viewer, _ = User.objects.get_or_create(username="bench-viewer")
        viewer.groups.add(Group.objects.get(name="viewer"))
        client = Client()
        client.force_login(viewer)
        urls = [v.format(s) for v in VIEWS.values() for s in SLUGS]
        extra = ["/models/busy/report/", "/"]
        median = timed(client, [*urls, *extra], args.requests)
        queries = {u: query_log(client, u) for u in [*urls, *extra]}
        head = f"{'page':<24}{'busy':>11}{'quiet':>11}{'empty':>11}{'busy/empty':>12}"
        print(head + "   queries and their SQL time (busy / quiet / empty)")
        ratios = {}
        for view, pattern in VIEWS.items():
            ms = [median[pattern.format(s)] for s in SLUGS]
            qs = [queries[pattern.format(s)] for s in SLUGS]
            ratios[view] = ms[0] / ms[2]
            print(
                f"model page {view:<13}"
                + "".join(f"{m:>9.1f}ms" for m in ms)
                + f"{ratios[view]:>11.2f}x   "
                + " / ".join(f"{q[0]} q {q[1]:.1f} ms" for q in qs)
            )
        for name, u in (("weekly report (busy)", extra[0]), ("portfolio (3 models)", extra[1])):
            print(f"{name:<24}{median[u]:>9.1f}ms   {queries[u][0]} queries, {queries[u][1]:.1f} ms SQL")
        colds = {view: cold(client, pattern.format("busy")) for view, pattern in VIEWS.items()}
        print(
            "busy, first request after clearing the cache: "
            + ", ".join(f"{v} {ms:.0f} ms" for v, ms in colds.items())
        )
        slowest = queries[VIEWS["technical"].format("busy")][2]
        print("slowest queries of the busy technical view: " + "; ".join(f"{t:.1f} ms" for t, _ in slowest))
        if args.profile:
            for pattern in VIEWS.values():
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(5):
                    client.get(pattern.format("busy"))
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        same = max(median[p.format("busy")] / median[p.format("quiet")] for p in VIEWS.values())
        worst = max(ratios.values())
        ok = worst <= MAX_RATIO
        print(
            f"busy / empty: {worst:.2f}x at worst ({info['rows']['busy']:,} predictions against none) "
            f"(target <= {MAX_RATIO:.0f}x) {'OK' if ok else 'MISSED'}; busy / quiet (same windows, "
            f"{info['rows']['busy'] // max(info['rows']['quiet'], 1):,}x the rows): {same:.2f}x"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
