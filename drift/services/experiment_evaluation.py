"""Looks at running experiments: aggregate each arm's data, evaluate, record the look, apply the rules.

Arms get their data from what ingestion already keeps per version and hour: traffic, serving errors
and latency from profile fragments; the primary metric from label fragments (exact confusion counts
or error sums of the predictions labelled so far, keyed by the *prediction's* hour, so late labels
count towards the day the prediction was served). The data window starts at the first full hour
after the start, so traffic from before the experiment never enters it.

`experiments_claim_due` (beat, every 15 minutes) claims each running experiment whose last look is
older than `EVALUATE_EVERY` with a conditional UPDATE, so two workers never look at one experiment at
once; `experiment_evaluate` then records a look when the data changed and stops the experiment when
a rule fires (audited as the system's decision).
"""

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from drift.engine.experiment_guardrails import Estimate, calibration_estimate, fairness_estimate
from drift.engine.experiment_summary import experiment_summary
from drift.engine.experiments import ArmData, evaluate
from drift.engine.label_sketch import LABEL, PREDICTION, SCORE, WINDOW_SAMPLE, merge_label_sketches
from drift.engine.windows import floor_hour
from drift.models import Experiment, ExperimentLook, ExperimentStatus, LabelFragment, ProfileFragment
from drift.services.experiment_definition import fragments_of, label_moments
from drift.services.experiments import set_allocation, stop_locked
from drift.services.fragments import merge_fragments
from governance.services.audit import Actor

EVALUATE_EVERY = timedelta(minutes=15)
ACTOR = Actor.system("experiments_evaluate")


def data_window(experiment: Experiment, now: datetime) -> tuple[datetime, datetime]:
    started = experiment.started_at or now
    start = floor_hour(started) + (timedelta(hours=1) if started != floor_hour(started) else timedelta(0))
    end = now if experiment.status == ExperimentStatus.RUNNING else (experiment.stopped_at or now)
    return start, max(start, end)


def _sum_sketches(version_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Serving errors and latency histograms per arm (JSON keys only, never the reservoirs)."""
    out: dict[int, dict[str, Any]] = {
        v: {"errors": 0, "latency": {"count": 0, "bins": []}} for v in version_ids
    }
    rows = fragments_of(ProfileFragment, version_ids, start, end)
    for version_id, errors, latency in rows.values_list("version_id", "sketch__errors", "sketch__latency"):
        acc = out[version_id]
        acc["errors"] += int(errors or 0)
        if latency and latency.get("count"):
            lat = acc["latency"]
            bins = latency.get("bins", [])
            lat["bins"] = [a + b for a, b in zip(lat["bins"] or [0] * len(bins), bins, strict=True)]
            lat["count"] += latency["count"]
            lat["max"] = max(lat.get("max") or 0.0, latency.get("max") or 0.0)
    return out


def _reservoir_estimates(
    criteria: dict[str, Any], version_id: int, start: datetime, end: datetime, seed: int
) -> tuple[Estimate | None, Estimate | None]:
    """Calibration error and fairness ratio from a bounded uniform sample of the arm's labelled rows."""
    names = {g["metric"]: g for g in criteria["guardrails"]}
    if "calibration_error" not in names and "fairness_ratio" not in names:
        return None, None
    fragments = fragments_of(LabelFragment, [version_id], start, end)
    merged, _ = merge_fragments(fragments, merge_label_sketches, WINDOW_SAMPLE, seed)
    rows = (merged or {}).get("reservoir", {}).get("rows", {})
    if not rows.get(LABEL):
        return None, None
    positive = str(criteria["positive_label"])
    calibration = (
        calibration_estimate(rows[LABEL], rows.get(SCORE, []), positive, seed)
        if "calibration_error" in names and rows.get(SCORE)
        else None
    )
    feature = names.get("fairness_ratio", {}).get("feature")
    fairness = (
        fairness_estimate(rows[feature], rows[PREDICTION], positive, seed)
        if feature and rows.get(feature)
        else None
    )
    return calibration, fairness


def _shares_at(history: Sequence[dict[str, Any]], when: datetime) -> dict[str, float]:
    current = history[0]["shares"] if history else {}
    for entry in history:
        at = parse_datetime(entry["from"])
        if at is not None and at <= when + timedelta(hours=1) / 2:
            current = entry["shares"]
    return current


def _expected_shares(
    experiment: Experiment, ids: Sequence[int], names: Sequence[str], start: datetime, end: datetime
) -> list[float]:
    """Expected traffic per arm under the allocation in force hour by hour (it moves in bandit mode,
    and goes all to the control while stopped)."""
    hourly = (
        fragments_of(ProfileFragment, ids, start, end)
        .values("hour")
        .annotate(total=Sum("rows"))
        .order_by("hour")
    )
    expected = [0.0] * len(names)
    for row in hourly:
        shares = _shares_at(experiment.allocation_history, row["hour"])
        for i, name in enumerate(names):
            expected[i] += row["total"] * float(shares.get(name, 0.0))
    return expected if sum(expected) > 0 else [1.0] * len(names)


def experiment_arm_data(experiment: Experiment, start: datetime, end: datetime, seed: int) -> list[ArmData]:
    """Every arm's aggregates over [start, end), control first. Database aggregation where it can be."""
    criteria = experiment.criteria or {}
    arms = criteria["arms"]
    ids = [a["version_id"] for a in arms]
    traffic = dict(
        fragments_of(ProfileFragment, ids, start, end)
        .values("version_id")
        .annotate(total=Sum("rows"))
        .values_list("version_id", "total")
    )
    daily = label_moments(criteria, ids, start, end)
    wants_ops = {g["metric"] for g in criteria["guardrails"]} & {"error_rate", "latency_p95"}
    ops = _sum_sketches(ids, start, end) if wants_ops else {}
    out = []
    for arm in arms:
        vid = arm["version_id"]
        calibration, fairness = _reservoir_estimates(criteria, vid, start, end, seed)
        out.append(
            ArmData(
                version=arm["version"],
                is_control=arm["is_control"],
                planned_share=arm["planned_share"],
                traffic=int(traffic.get(vid) or 0),
                daily={day: m for (v, day), m in daily.items() if v == vid},
                errors=ops.get(vid, {}).get("errors", 0),
                latency=ops.get(vid, {}).get("latency"),
                calibration=calibration,
                fairness=fairness,
            )
        )
    return out


def _unchanged(previous: ExperimentLook | None, results: dict[str, Any]) -> bool:
    if previous is None:
        return False
    key = [(a["traffic"], a["labelled"]) for a in results["arms"]]
    return key == [(a["traffic"], a["labelled"]) for a in previous.results.get("arms", [])]


def experiment_results(
    experiment: Experiment, *, now: datetime, seed: int, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The statistics of the experiment as of `now` (what a look records), without writing anything.

    `previous` is the last look's results, whose always-valid p-values the new look continues."""
    start, end = data_window(experiment, now)
    arms = experiment_arm_data(experiment, start, end, seed)
    expected = _expected_shares(
        experiment,
        [a["version_id"] for a in experiment.criteria["arms"]],
        [a.version for a in arms],
        start,
        end,
    )
    best_p = {c["challenger"]: c.get("always_valid_p", 1.0) for c in (previous or {}).get("comparisons", [])}
    results = evaluate(
        experiment.criteria,
        arms,
        due=bool(experiment.ends_at and now >= experiment.ends_at),
        expected_shares=expected,
        seed=seed,
        previous_p=best_p,
    )
    results["window"] = {"start": start.isoformat(), "end": end.isoformat()}
    return results


def experiment_evaluate(*, experiment_id: int, now: datetime | None = None) -> ExperimentLook | None:
    """One look: record it if the data changed, move the bandit allocation, stop on a rule."""
    now = now or timezone.now()
    experiment = Experiment.objects.select_related("model").filter(pk=experiment_id).first()
    if experiment is None or experiment.status != ExperimentStatus.RUNNING:
        return None
    previous = experiment.looks.order_by("-number").first()
    number = (previous.number if previous else 0) + 1
    seed = zlib.crc32(f"experiment:{experiment.pk}:{number}".encode())
    results = experiment_results(
        experiment, now=now, seed=seed, previous=previous.results if previous else None
    )
    stop = results["stop"]
    if stop is None and _unchanged(previous, results):
        return None
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().select_related("model").get(pk=experiment_id)
        if experiment.status != ExperimentStatus.RUNNING or experiment.looks.filter(number=number).exists():
            return None  # stopped by a person meanwhile, or another worker recorded this look
        results["summary"] = experiment_summary(
            results,
            status="stopped" if stop else "running",
            stop_reason=stop["reason"] if stop else "",
            currency=experiment.criteria.get("currency", "USD"),
        )
        start, end = data_window(experiment, now)
        look = ExperimentLook.objects.create(
            experiment=experiment,
            number=number,
            at=now,
            data_start=start,
            data_end=end,
            results=results,
            allocation=results["allocation"],
            stop_reason=stop["reason"] if stop else "",
        )
        if stop is not None:
            stop_locked(experiment, reason=stop["reason"], note=stop["detail"], actor=ACTOR, evidence=results)
        elif experiment.mode == "bandit":
            set_allocation(experiment, results["allocation"])
            experiment.save(update_fields=["allocation", "allocation_history", "updated_at"])
    return look


def experiments_claim_due(*, now: datetime | None = None) -> list[int]:
    """Claim every running experiment not evaluated for EVALUATE_EVERY; returns the claimed ids."""
    now = now or timezone.now()
    due = Experiment.objects.filter(status=ExperimentStatus.RUNNING).exclude(
        last_evaluated_at__gt=now - EVALUATE_EVERY
    )
    claimed = []
    for pk, last in due.values_list("pk", "last_evaluated_at"):
        same = {"last_evaluated_at": last} if last else {"last_evaluated_at__isnull": True}
        if Experiment.objects.filter(pk=pk, status=ExperimentStatus.RUNNING, **same).update(
            last_evaluated_at=now
        ):
            claimed.append(pk)
    return claimed
