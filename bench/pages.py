"""Model page server time with many predictions behind it, against a model with almost none and an empty one.

    .venv/bin/python bench/pages.py                   # 300,000 predictions over 14 days
    .venv/bin/python bench/pages.py --rows 1000000

Into a scratch PostgreSQL database (DATABASE_URL or --database-url; its name must contain "bench", else
driftwatch_bench_pages on the same server), in this process:

1. Three models with the same schema (`drift.scenarios` "mean_shift", 10 numeric + 3 categorical
   features, a segment and a sensitive attribute) and a 5,000-row reference each:
   **busy** gets --rows predictions spread over --days days (every 5th labelled), **quiet** gets 20
   predictions a day over the same days, **empty** none.
2. Every complete day of busy and quiet is analysed in-process (`analysis_request` + `analysis_execute`),
   so both pages chart the same number of windows.
3. Times the pages through Django's full stack (test client, every middleware, templates), signed in as
   a viewer: the model page's executive and technical views and the portfolio, --requests rounds
   after one warm-up, in turn; the figure is the median. Also counts the SQL queries of one request.

Promise: the busy model's page takes at most 2x the quiet model's: the same analysed windows with a few
hundred times fewer predictions behind them (pages read analyses and profiles, never raw predictions,
so their cost follows windows and features, not rows). For information, against the empty model, whose
page is an empty state with nothing to chart. Exit status 1 when the promise is missed.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _server import scratch_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/driftwatch_bench_pages"
BATCH = 5_000
REFERENCE_ROWS = 5_000
QUIET_PER_DAY = 20
MAX_RATIO = 2.0


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


def register(slug: str, sc: Any) -> Any:
    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    model = model_create(
        slug=slug,
        name=slug.title(),
        task="binary_classification",
        owner="bench",
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


def feed(model: Any, n: int, start: datetime, days: int, seed: int) -> int:
    """n predictions spread evenly over `days` from `start`, every 5th labelled; returns rows stored."""
    from drift.scenarios import make_scenario
    from drift.services.ingestion import outcomes_ingest, predictions_ingest

    sc = make_scenario("mean_shift", n_reference=10, n_current=n, n_numeric=10, n_categorical=3, seed=seed)
    cur = sc.current
    feats = columns(cur, sc)
    step = days * 86_400 / n
    latencies = np.random.default_rng(seed).gamma(4.0, 5.0, n).round(2).tolist()
    stored, outcomes = 0, []
    for b in range(0, n, BATCH):
        records = []
        for i in range(b, min(b + BATCH, n)):
            ts = datetime.fromtimestamp(start.timestamp() + i * step, tz=UTC)
            records.append(
                {
                    "id": f"{model.slug}-{i}",
                    "timestamp": ts.isoformat().replace("+00:00", "Z"),
                    "features": feats[i],
                    "prediction": int(cur.prediction[i]),
                    "score": float(cur.score[i]),
                    "latency_ms": latencies[i],
                }
            )
            if i % 5 == 0:
                outcomes.append({"prediction_id": f"{model.slug}-{i}", "label": int(cur.y[i])})
        stored += predictions_ingest(
            model=model, version="v1", records=records, submitted_by="bench"
        ).accepted
    for b in range(0, len(outcomes), BATCH):
        outcomes_ingest(model=model, records=outcomes[b : b + BATCH], submitted_by="bench")
    return stored


def analyse(model: Any, start: datetime, days: int) -> int:
    from drift.engine.windows import split
    from drift.services.analyses import analysis_execute, analysis_request

    done = 0
    for lo, hi in split("daily", start, start + timedelta(days=days)):
        run = analysis_request(model=model, window_start=lo, window_end=hi, enqueue=False)
        done += (analysis_execute(run_id=run.pk) or run).status == "done"
    return done


def timed(client: Any, urls: list[str], rounds: int) -> dict[str, tuple[float, int]]:
    """{url: (median milliseconds, SQL queries of one request)}. The urls are requested in turn, round
    after round, so a slow moment of a shared machine falls on all of them alike."""
    from django.db import connection

    queries: dict[str, int] = {}
    for url in urls:
        assert client.get(url).status_code == 200, url  # warm-up
        seen: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            seen.append(sql)  # noqa: B023 - used within this iteration only
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        queries[url] = len(seen)
    times: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(rounds):
        for url in urls:
            t0 = time.perf_counter()
            response = client.get(url)
            times[url].append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, url
    return {url: (statistics.median(times[url]), queries[url]) for url in urls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    url = args.database_url if "bench" in args.database_url.rsplit("/", 1)[-1] else DEFAULT_URL
    with scratch_database(url) as db:
        os.environ.update(DATABASE_URL=db, DJANGO_SETTINGS_MODULE="monitoring_site.settings")
        os.environ.pop("CELERY_BROKER_URL", None)  # analyses run in this process
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django.test import Client

        from drift.scenarios import make_scenario

        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SECURE_SSL_REDIRECT = False
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        call_command("migrate", verbosity=0)
        sc = make_scenario(
            "mean_shift", n_reference=REFERENCE_ROWS, n_current=10, n_numeric=10, n_categorical=3, seed=1
        )
        start = (datetime.now(UTC) - timedelta(days=args.days + 1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        t0 = time.perf_counter()
        busy, quiet, _ = register("busy", sc), register("quiet", sc), register("empty", sc)
        rows = feed(busy, args.rows, start, args.days, seed=2)
        few = feed(quiet, QUIET_PER_DAY * args.days, start, args.days, seed=3)
        windows = analyse(busy, start, args.days), analyse(quiet, start, args.days)
        print(
            f"set-up {time.perf_counter() - t0:.0f} s: busy {rows:,} predictions, quiet {few:,}, "
            f"empty 0; analysed windows busy {windows[0]}, quiet {windows[1]}",
            flush=True,
        )

        viewer = User.objects.create_user("bench-viewer")
        viewer.groups.add(Group.objects.get(name="viewer"))
        client = Client()
        client.force_login(viewer)
        slugs = ("busy", "quiet", "empty")
        views = {"executive": "/models/{}/", "technical": "/models/{}/?view=technical"}
        urls = [v.format(s) for v in views.values() for s in slugs]
        measured = timed(client, [*urls, "/"], args.requests)
        results = {s: {name: measured[v.format(s)] for name, v in views.items()} for s in slugs}
        portfolio = measured["/"]
        print(f"{'page':<22}{'busy':>12}{'quiet':>12}{'empty':>12}   queries (busy/quiet/empty)")
        for view in ("executive", "technical"):
            ms = [results[s][view][0] for s in ("busy", "quiet", "empty")]
            qs = [results[s][view][1] for s in ("busy", "quiet", "empty")]
            print(
                f"model page {view:<11}"
                + "".join(f"{m:>10.1f}ms" for m in ms)
                + f"   {qs[0]}/{qs[1]}/{qs[2]}"
            )
        print(f"portfolio (3 models)  {portfolio[0]:>10.1f}ms   {portfolio[1]} queries")
        same = max(results["busy"][v][0] / results["quiet"][v][0] for v in views)
        empty = max(results["busy"][v][0] / results["empty"][v][0] for v in views)
        ok = same <= MAX_RATIO
        print(
            f"busy / quiet (same windows, {args.rows // max(few, 1):,}x the rows): {same:.2f}x "
            f"(target <= {MAX_RATIO:.0f}x) {'OK' if ok else 'MISSED'}; "
            f"busy / empty (an empty state, nothing to chart): {empty:.2f}x"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
