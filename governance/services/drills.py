"""Drills: inject a known change into a model's telemetry, let the real policies judge it in drill mode,
time the response, and end with a short report.

The drill's telemetry is the production version's reference replayed with one `drift.scenarios` change
(`governance.drill_data`), ingested through the normal path but flagged `is_drill`: real analyses,
dispatch, profiles' compaction and the prediction explorer leave it out, and a drill analysis reads only
it. The policies evaluate the drill's analysis like any other, except that their events belong to the
drill, a `serving_mode` action moves the drill's own gate (never the real one), and incidents, retraining
and holdout evaluations are recorded as what would have happened. People acknowledge and work the
drill's events through the normal events API; the report times detection, acknowledgement and
mitigation from the record.
"""

import zlib
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from drift.engine.windows import floor_hour
from drift.models import AnalysisRun, FeatureSpec, ModelVersion, MonitoredModel, ReferenceRow, RunKind, Stage
from drift.roles import ANALYST, role_at_least, user_role
from drift.services.analyses import analysis_request
from drift.services.ingestion import outcomes_ingest, predictions_ingest
from governance.drill_data import KINDS, MAGNITUDES, drill_rows, placeholder
from governance.models import CLOSED_STATUSES, DriftEvent, Drill, DrillStatus, EventStatus, strictness
from governance.selectors_drills import drill_facts, drill_rules
from governance.services.audit import Actor, audit_record
from monitoring_site.errors import ApplicationError

DEFAULT_ROWS = 1_000
MAX_ROWS = 10_000
REFERENCE_SAMPLE = 5_000  # reference rows drawn from, at most


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _running(model: MonitoredModel) -> ApplicationError:
    return ApplicationError(f"Model '{model.slug}' already has a drill running; end it first.", status=409)


def _check(model: MonitoredModel, scenario: str, magnitude: float | None, rows: int) -> ModelVersion:
    if scenario not in KINDS:
        raise _invalid("scenario", f"one of {', '.join(KINDS)}")
    if magnitude is not None and not (0 < magnitude <= 10):
        raise _invalid("magnitude", "a number above 0, at most 10")
    if not 50 <= rows <= MAX_ROWS:
        raise _invalid("rows", f"between 50 and {MAX_ROWS:,}")
    version = model.versions.filter(stage=Stage.PRODUCTION).order_by("-created_at", "-id").first()
    if version is None:
        raise ApplicationError(f"Model '{model.slug}' has no production version to drill.", status=409)
    if not ReferenceRow.objects.filter(dataset__version=version).exists():
        raise ApplicationError(
            f"Version {version.version} has no reference to replay; upload one first.", status=409
        )
    return version


def _schema(version: ModelVersion) -> list[dict[str, Any]]:
    fields = ("name", "type", "role", "pii", "nullable", "categories", "min_value")
    specs = FeatureSpec.objects.filter(version=version).order_by("position").values_list(*fields)
    return [dict(zip((*fields[:-1], "min"), spec, strict=True)) for spec in specs]


def _reference(version: ModelVersion, seed: int) -> list[dict[str, Any]]:
    ids = list(ReferenceRow.objects.filter(dataset__version=version).values_list("id", flat=True))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(ids, size=min(len(ids), REFERENCE_SAMPLE), replace=False).tolist()
    return list(ReferenceRow.objects.filter(id__in=chosen).values("features", "prediction", "score", "label"))


def _records(drill: Drill, rows: list[dict[str, Any]], schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prediction records spread over the drill's hour so far, with values the schema requires."""
    required = [f for f in schema if not f["nullable"]]
    span = max((drill.started_at - drill.window_start).total_seconds(), 0.0)
    step = span / max(len(rows), 1)
    records = []
    for i, row in enumerate(rows):
        features = dict(row["features"])
        for feature in required:
            if features.get(feature["name"]) is None and feature["pii"] == "drop":
                features[feature["name"]] = placeholder(feature)
        when = drill.window_start + timedelta(seconds=i * step)
        records.append(
            {
                "id": f"drill-{drill.pk}-{i}",
                "timestamp": when.isoformat().replace("+00:00", "Z"),
                "features": features,
                "prediction": row["prediction"],
                **({"score": row["score"]} if row.get("score") is not None else {}),
            }
        )
    return records


def _ingest(drill: Drill, records: list[dict[str, Any]], labels: list[Any]) -> None:
    model, batch = drill.model, settings.DRIFTWATCH["MAX_BATCH_RECORDS"]
    who = f"drill:{drill.pk}"
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        predictions_ingest(
            model=model,
            version=drill.version.version,
            records=chunk,
            partial=True,
            submitted_by=who,
            is_drill=True,
        )
    outcomes = [
        {"prediction_id": rec["id"], "label": label}
        for rec, label in zip(records, labels, strict=True)
        if label is not None
    ]
    for start in range(0, len(outcomes), batch):
        outcomes_ingest(
            model=model,
            records=outcomes[start : start + batch],
            partial=True,
            submitted_by=who,
            is_drill=True,
        )


@transaction.atomic
def drill_start(
    *,
    model: MonitoredModel,
    scenario: str,
    by: Any,
    magnitude: float | None = None,
    rows: int = DEFAULT_ROWS,
    seed: int | None = None,
) -> Drill:
    """Generate the drill's telemetry for the production version (the current hour), ingest it flagged
    as drill data, and request its analysis (policies judge it in drill mode when it finishes)."""
    if not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may start a drill.", status=403)
    version = _check(model, scenario, magnitude, rows)
    if Drill.objects.filter(model=model, status=DrillStatus.RUNNING).exists():
        raise _running(model)
    now = timezone.now()
    start, end = floor_hour(now), floor_hour(now) + timedelta(hours=1)
    if AnalysisRun.objects.filter(version=version, kind=RunKind.DRILL, window_start=start).exists():
        raise ApplicationError(
            f"A drill of '{model.slug}' already used the hour from {start:%H:%M} UTC; drills have an hour "
            f"each, so start the next one from {end:%H:%M} UTC.",
            status=409,
        )
    actor = Actor.of(by)
    seed = zlib.crc32(f"{model.pk}:{now.isoformat()}".encode()) % 2**31 if seed is None else seed
    size = float(MAGNITUDES.get(scenario, 0.0) if magnitude is None else magnitude)
    try:
        with transaction.atomic():
            drill = Drill.objects.create(
                model=model,
                version=version,
                scenario=scenario,
                magnitude=size,
                rows=rows,
                seed=seed,
                started_by=actor.user,
                started_at=now,
                window_start=start,
                window_end=end,
            )
    except IntegrityError:  # a concurrent start won
        raise _running(model) from None
    schema = _schema(version)
    made = drill_rows(
        _reference(version, seed),
        schema,
        scenario,
        n=rows,
        seed=seed,
        magnitude=size,
        positive_label=model.positive_label or 1,
    )
    records = _records(drill, made.rows, schema)
    _ingest(drill, records, [row["label"] for row in made.rows])
    drill.injected = made.note
    drill.run = analysis_request(
        model=model, window_start=start, window_end=end, version=version, requested_by=actor.user, drill=True
    )
    drill.save(update_fields=["injected", "run"])
    audit_record(
        actor=actor,
        action="drill.start",
        obj=drill,
        model=model,
        after={
            "scenario": scenario,
            "magnitude": size,
            "rows": rows,
            "version": version.version,
            "injected": made.note,
            "run": drill.run.pk,
        },
    )
    return drill


def _locked(drill: Drill) -> Drill:
    return Drill.objects.select_for_update().select_related("model").get(pk=drill.pk)


def drill_gate_tighten(*, drill: Drill, mode: str, reason: str, actor: Actor) -> bool:
    """A policy's serving_mode action in drill mode: the drill's own gate moves (if that is stricter).
    Runs inside the policy evaluation's transaction."""
    drill = _locked(drill)
    if strictness(mode) <= strictness(drill.gate_mode):
        return False
    before = {"mode": drill.gate_mode}
    drill.gate_mode, drill.gate_reason = mode, reason
    drill.gate_changed_at = drill.gate_changed_at or timezone.now()
    drill.save(update_fields=["gate_mode", "gate_reason", "gate_changed_at"])
    audit_record(
        actor=actor,
        action="drill.serving_mode",
        obj=drill,
        model=drill.model,
        before=before,
        after={"mode": mode},
        reason=reason,
    )
    return True


def drill_note_actions(*, drill: Drill, event: DriftEvent | None, done: list[str]) -> None:
    """Record what a firing rule did, or would have done, in the drill (inside the evaluation)."""
    drill = _locked(drill)
    at = timezone.now().isoformat()
    drill.actions = [
        *drill.actions,
        *({"at": at, "event": getattr(event, "pk", None), "text": t} for t in done),
    ]
    drill.save(update_fields=["actions"])


@transaction.atomic
def drill_evaluated(*, drill: Drill) -> Drill:
    """The policies have judged the drill's analysis: note when, and what they raised."""
    drill = _locked(drill)
    drill.evaluated_at = timezone.now()
    drill.save(update_fields=["evaluated_at"])
    audit_record(
        actor=Actor.system("policies_evaluate"),
        action="drill.evaluated",
        obj=drill,
        model=drill.model,
        after={"events": list(drill.events.values_list("id", flat=True)), "gate_mode": drill.gate_mode},
    )
    return drill


def _summary(drill: Drill, facts: dict[str, Any]) -> str:
    what = f"Drill '{drill.scenario}' (magnitude {drill.magnitude:g}) on {drill.model.slug}"
    what += f" {drill.version.version}"
    if facts["analysis"] is None or facts["analysis"]["status"] != "done":
        status = facts["analysis"]["status"] if facts["analysis"] else "not requested"
        return f"{what}: its analysis did not finish ({status}), so nothing could be detected."
    if not facts["detected"]:
        return f"{what}: not detected; no policy rule fired on the injected change ({drill.injected})."
    first = facts["events"][0]
    parts = [
        f"{what}: detected after {_human(facts['time_to_detect'])} by policy '{first['policy']}' "
        f"({first['signal']})"
    ]
    parts.append(
        f"acknowledged after {_human(facts['time_to_acknowledge'])}"
        if facts["time_to_acknowledge"] is not None
        else "never acknowledged"
    )
    parts.append(
        f"mitigated after {_human(facts['time_to_mitigate'])}"
        if facts["time_to_mitigate"] is not None
        else "not mitigated"
    )
    gate = facts["gate"]["mode"]
    tail = f"The drill's gate ended at {gate.replace('_', ' ')}; the real gate was not touched."
    return "; ".join(parts) + f". {tail}"


def _human(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


@transaction.atomic
def drill_end(*, drill: Drill, by: Any, note: str = "") -> Drill:
    """End the drill: close its open events, freeze the facts into a report with a short summary."""
    if not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may end a drill.", status=403)
    drill = _locked(drill)
    if drill.status != DrillStatus.RUNNING:
        raise ApplicationError(f"Drill #{drill.pk} already ended.", status=409)
    actor, now = Actor.of(by), timezone.now()
    facts = drill_facts(drill)
    for event in drill.events.exclude(status__in=CLOSED_STATUSES).select_for_update():
        before = event.status
        event.status, event.closed_at, event.closed_by = EventStatus.RESOLVED, now, actor.user
        event.results = f"{event.results}\nThe drill ended.".strip()
        event.save(update_fields=["status", "closed_at", "closed_by", "results", "updated_at"])
        audit_record(
            actor=actor,
            action="drift_event.drill_closed",
            obj=event,
            model=drill.model,
            before={"status": before},
            after={"status": event.status},
        )
    drill.report = {
        **facts,
        "scenario": drill.scenario,
        "magnitude": drill.magnitude,
        "rows": drill.rows,
        "version": drill.version.version,
        "injected": drill.injected,
        "rules": drill_rules(drill),
        "actions": drill.actions,
        "summary": _summary(drill, facts),
    }
    drill.status, drill.ended_at, drill.ended_by, drill.note = (
        DrillStatus.COMPLETED,
        now,
        actor.user,
        note[:10_000],
    )
    drill.save()
    audit_record(
        actor=actor,
        action="drill.end",
        obj=drill,
        model=drill.model,
        after={"summary": drill.report["summary"]},
        reason=note,
    )
    return drill
