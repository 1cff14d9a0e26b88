"""Evidently's DataDriftPreset on exported reference/current columns; run by bench/analysis.py.

    bench/.venv-evidently/bin/python bench/evidently_drift.py DATA_DIR

Runs in its own virtualenv (Evidently is never a project dependency), so it imports neither Django
nor the project. DATA_DIR holds what `bench/analysis.py` exported from the same scenario it ingested:

    meta.json                     {"numeric": [...], "categorical": {name: [category, ...]}}
    {reference,current}_num.npy   float64 (rows, numeric columns), NaN = missing
    {reference,current}_cat.npy   int8 (rows, categorical columns): index into the column's
                                  categories, -1 = missing

Loading the files is not timed. Timed, as a user of pandas + Evidently would run it: building both
DataFrames (categorical columns as Python strings with None for missing, numeric as float64 with
NaN), the `Dataset`s with their `DataDefinition`, and `Report([DataDriftPreset()]).run(...)`, whose
snapshot is then read for the drifted-column count. A 2,000-row run first, untimed, pays Evidently's
lazy imports. Prints one line: `RESULT {"seconds": ..., "peak_mb": ..., ...}` (peak = VmHWM).
"""

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently import __version__ as evidently_version
from evidently.presets import DataDriftPreset


def frame(num: np.ndarray, cat: np.ndarray, meta: dict[str, Any]) -> pd.DataFrame:
    columns: dict[str, Any] = {name: num[:, j] for j, name in enumerate(meta["numeric"])}
    for j, (name, categories) in enumerate(meta["categorical"].items()):
        # Index -1 (missing) picks the trailing None.
        labels = np.array([*categories, None], dtype=object)
        columns[name] = labels[cat[:, j]]
    return pd.DataFrame(columns)


def drift_report(ref: pd.DataFrame, cur: pd.DataFrame, meta: dict[str, Any]) -> Any:
    definition = DataDefinition(
        numerical_columns=list(meta["numeric"]), categorical_columns=list(meta["categorical"])
    )
    reference = Dataset.from_pandas(ref, data_definition=definition)
    current = Dataset.from_pandas(cur, data_definition=definition)
    return Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)


def drifted_columns(snapshot: Any) -> int | None:
    """The preset's 'drifted columns' count, read from the snapshot (None if its shape changed)."""
    for metric in snapshot.dict().get("metrics", []):
        name = str(metric.get("metric_name") or metric.get("config", {}).get("type", ""))
        if "DriftedColumnsCount" in name:
            value = metric.get("value")
            return int(value["count"]) if isinstance(value, dict) and "count" in value else None
    return None


def main() -> int:
    data = Path(sys.argv[1])
    meta = json.loads((data / "meta.json").read_text())
    ref_num, ref_cat = np.load(data / "reference_num.npy"), np.load(data / "reference_cat.npy")
    cur_num, cur_cat = np.load(data / "current_num.npy"), np.load(data / "current_cat.npy")

    warm = 2_000
    drift_report(
        frame(ref_num[:warm], ref_cat[:warm], meta), frame(cur_num[:warm], cur_cat[:warm], meta), meta
    )

    start, cpu = time.perf_counter(), time.process_time()
    snapshot = drift_report(frame(ref_num, ref_cat, meta), frame(cur_num, cur_cat, meta), meta)
    drifted = drifted_columns(snapshot)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

    status = Path("/proc/self/status").read_text()
    peak = re.search(r"VmHWM:\s+(\d+) kB", status)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": int(peak.group(1)) / 1024 if peak else 0.0,
        "rows": int(cur_num.shape[0]),
        "reference_rows": int(ref_num.shape[0]),
        "columns": len(meta["numeric"]) + len(meta["categorical"]),
        "drifted_columns": drifted,
        "evidently": evidently_version,
        "pandas": pd.__version__,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
