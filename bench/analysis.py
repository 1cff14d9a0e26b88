"""Analysis cost against window size: an analysis merges fragments, so it must not grow with rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/driftwatch_bench_analysis \
        .venv/bin/python bench/analysis.py --rows 100000 --rows 1000000

For each size it registers a model (8 numeric, 4 categorical features, one segment and one sensitive
feature) with a 20,000-row reference, writes the profile and label fragments that ingestion would write
for N predictions over one day (batches of 10,000 rows, one fragment per batch and hour; a streaming
batch covers a slice of the day, with --spread every batch covers all of it; every prediction
labelled), then times `manage.py analyze` for that day in a fresh process, --rounds times, and reads
its peak memory (VmHWM). The first round also compacts each hour's fragments into one, as the
dispatcher does in the background. Promise: the 1M-row window within 1.5 x the 100k-row time (best
round), peak memory within 300 MB (worst round). Without DATABASE_URL it uses a scratch SQLite file.

The scratch PostgreSQL database (its name must contain "bench") is dropped and re-created first and
dropped on exit.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DAY = datetime(2026, 11, 19, tzinfo=UTC)
BATCH = 10_000


def setup_model(n_rows: int, slug: str, *, spread: bool = False) -> None:
    import numpy as np

    from drift.engine.label_sketch import sketch_labels
    from drift.models import LabelFragment, ProfileFragment
    from drift.profiles import ProfileSpec, sketch_rows
    from drift.scenarios import make_scenario
    from drift.services.profiles import FRAGMENT_RESERVOIR
    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    sc = make_scenario(
        "mean_shift", n_reference=20_000, n_current=n_rows, n_numeric=8, n_categorical=4, seed=1
    )
    schema = [{"name": n, "type": "numeric"} for n in sc.numeric]
    schema += [{"name": n, "type": "categorical"} for n in sc.categorical]
    schema += [
        {"name": "segment", "type": "categorical", "role": "segment"},
        {"name": "group", "type": "categorical", "role": "sensitive"},
    ]
    model = model_create(
        slug=slug, name=slug, task="binary_classification", owner="bench", positive_label="1"
    )
    version = version_create(model=model, version="v1", features=schema, stage="production")

    def columns(sample: Any, rows: Any) -> dict[str, Any]:
        out = {n: sample.features[n][rows] for n in (*sc.numeric, *sc.categorical)}
        out["segment"], out["group"] = sample.segment[rows], sample.sensitive[rows]
        return out

    ref = columns(sc.reference, slice(None))
    records = [
        {
            "features": {
                k: (
                    None
                    if v[i] is None or (isinstance(v[i], float) and np.isnan(v[i]))
                    else (v[i].item() if hasattr(v[i], "item") else v[i])
                )
                for k, v in ref.items()
            },
            "prediction": int(sc.reference.prediction[i]),
            "score": float(sc.reference.score[i]),
            "label": int(sc.reference.y[i]),
        }
        for i in range(sc.reference.n)
    ]
    dataset = reference_upload(version=version, rows=records, source="json")
    spec = ProfileSpec.from_json(dataset.profile_spec)
    # Streaming batches cover a slice of the day each; --spread batches (backfills) cover all of it.
    hour_of = np.arange(n_rows) % 24 if spread else (np.arange(n_rows) * 24) // n_rows
    profiles, labels = [], []
    for b in range(0, n_rows, BATCH):
        for h in np.unique(hour_of[b : b + BATCH]):
            idx = np.arange(b, min(b + BATCH, n_rows))
            idx = idx[hour_of[idx] == h]
            cur = sc.current
            hour = DAY + timedelta(hours=int(h))
            seed = zlib.crc32(f"{b}:{h}".encode())
            cols = columns(cur, idx)
            sketch = sketch_rows(
                cols,
                spec,
                scores=cur.score[idx],
                predictions=cur.prediction[idx].tolist(),
                latencies=np.full(idx.size, 20.0),
                reservoir_size=FRAGMENT_RESERVOIR,
                seed=seed,
            )
            profiles.append(
                ProfileFragment(
                    version=version, hour=hour, spec_digest=spec.digest, rows=idx.size, sketch=sketch
                )
            )
            ts = (hour + timedelta(seconds=1)).timestamp()
            lab = sketch_labels(
                task=model.task,
                timestamps=[ts] * idx.size,
                predictions=cur.prediction[idx].tolist(),
                labels=cur.y[idx].tolist(),
                scores=cur.score[idx].tolist(),
                features={k: list(v) for k, v in cols.items()},
                seed=seed,
            )
            labels.append(LabelFragment(version=version, hour=hour, rows=idx.size, sketch=lab))
        if len(profiles) >= 500:
            ProfileFragment.objects.bulk_create(profiles)
            LabelFragment.objects.bulk_create(labels)
            profiles, labels = [], []
    ProfileFragment.objects.bulk_create(profiles)
    LabelFragment.objects.bulk_create(labels)


# Runs the command, then prints the process's own peak resident memory. VmHWM belongs to the memory
# map created at exec; ru_maxrss would also count the parent's memory copied by the fork before it.
CHILD = """
import re, sys
from pathlib import Path
from typing import Any
sys.argv = ["manage.py", *sys.argv[1:]]
sys.path.insert(0, {root!r})
from django.core.management import execute_from_command_line
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
execute_from_command_line(sys.argv)
peak = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())
print(f"PEAK_KB {{peak.group(1) if peak else 0}}")
"""


def time_analysis(slug: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of `manage.py analyze` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD.format(root=str(ROOT)),
            "analyze",
            "--model",
            slug,
            "--start",
            DAY.isoformat(),
            "--end",
            (DAY + timedelta(days=1)).isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"analyze failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    peak_kb = int(done.stdout.rsplit("PEAK_KB", 1)[1].split()[0])
    return elapsed, peak_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="Window sizes (repeat).")
    parser.add_argument("--rounds", type=int, default=2, help="Timed runs per size (best kept).")
    parser.add_argument("--spread", action="store_true", help="Every batch spans the whole day.")
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    env = dict(os.environ)
    url = env.get("DATABASE_URL", "")
    scratch = tempfile.TemporaryDirectory()
    if url:
        from _server import scratch_database

        context = scratch_database(url)
        context.__enter__()
    else:
        env["DRIFTWATCH_DATA_DIR"] = scratch.name
        os.environ["DRIFTWATCH_DATA_DIR"] = scratch.name
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True, env=env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    import django

    django.setup()
    times, peaks = {}, {}
    for n in sizes:
        slug = f"bench-{n}"
        t0 = time.perf_counter()
        setup_model(n, slug, spread=args.spread)
        print(f"{n:>9,} rows: fragments written in {time.perf_counter() - t0:.1f} s", flush=True)
        rounds = [time_analysis(slug, env) for _ in range(args.rounds)]
        for i, (seconds, peak) in enumerate(rounds, 1):
            print(f"{n:>9,} rows: round {i}: analysis {seconds:.2f} s, peak memory {peak:.0f} MB", flush=True)
        # The first round also compacts the hours (as the dispatcher does in the background).
        times[n] = min(r[0] for r in rounds)
        peaks[n] = max(r[1] for r in rounds)
    if len(sizes) >= 2:
        ratio = times[sizes[-1]] / times[sizes[0]]
        print(f"ratio {sizes[-1]:,} / {sizes[0]:,} rows: {ratio:.2f} (promise: <= 1.5)")
    print(f"peak memory: {max(peaks.values()):.0f} MB (promise: <= 300)")
    if url:
        context.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
