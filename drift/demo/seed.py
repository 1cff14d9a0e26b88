"""Feed the demo story through the services the API uses: registry, reference, ingestion, keys.

Each step is its own function so later issues can add theirs (analyses, governance, dashboards,
experiments) after `replay` without touching the story. Telemetry only ever enters through
`predictions_ingest`, `outcomes_ingest` and `health_record`, exactly as an integration's requests would.

Time is replayed: while the story runs, `django.utils.timezone.now` answers the story's clock, so each
batch is received (and judged late or on time) at the moment it would have arrived, stage changes carry
the day they happened, and a backfill does not turn ninety days of telemetry into "late" records.
"""

import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import numpy as np
from django.contrib.auth.models import Group, User
from django.db import transaction
from rest_framework.authtoken.models import Token
from tqdm import tqdm

from drift.demo import catalogue as cat
from drift.demo.story import DAY, HOUR, Milestone, Reference, Story
from drift.demo.timeline import iso, record_ids, timeline
from drift.models import ModelVersion, MonitoredModel, Outcome, PredictionLog, ReferenceRow
from drift.services.ingestion import health_record, outcomes_ingest, predictions_ingest
from drift.services.keys import integration_key_create
from drift.services.reference import reference_upload
from drift.services.registry import model_create, version_create, version_set_stage
from governance.models import DriftEvent, Runbook
from monitoring_site.errors import ApplicationError


@dataclass
class SeedReport:
    predictions_sent: int = 0
    accepted: int = 0
    rejected: int = 0
    flagged: int = 0
    late: int = 0
    outcomes_sent: int = 0
    outcomes_accepted: int = 0
    health_samples: int = 0
    batches: int = 0
    reference_rows: dict[str, int] = field(default_factory=dict)
    integration_key: str = ""  # the plain key, shown once


class StoryClock:
    """Replaces `timezone.now` during the replay; `None` means the real time."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self._real = datetime.now

    def set(self, epoch_seconds: int) -> None:
        self.at = datetime.fromtimestamp(epoch_seconds, UTC)

    def __call__(self) -> datetime:
        return self.at if self.at is not None else self._real(UTC)


@contextmanager
def replayed_time() -> Iterator[StoryClock]:
    clock = StoryClock()
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


# --- the cast ---------------------------------------------------------------------------------------


def ensure_users(*, reset_passwords: bool = False) -> dict[str, User]:
    """One user per role (see catalogue.USERS). Existing users keep their password unless asked."""
    users = {}
    for spec in cat.USERS:
        user, created = User.objects.get_or_create(
            username=spec["username"],
            defaults={
                "first_name": spec["first_name"],
                "last_name": spec["last_name"],
                "email": f"{spec['username']}@driftwatch.example",
            },
        )
        if created or reset_passwords:
            user.set_password(cat.demo_password(user.username))
        user.is_staff = spec["staff"]
        user.is_superuser = spec["superuser"]
        user.is_active = True
        user.save()
        user.groups.add(Group.objects.get_or_create(name=spec["role"])[0])
        users[spec["role"]] = user
    return users


def personal_token(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


# --- the registry -------------------------------------------------------------------------------------


def register_model(users: dict[str, User]) -> tuple[MonitoredModel, ModelVersion]:
    model = model_create(**cat.MODEL)
    v1 = version_create(
        model=model,
        version="v1",
        features=cat.features_for("v1"),
        stage="production",
        created_by=users["analyst"],
        **cat.VERSIONS["v1"],
    )
    return model, v1


def reference_records(ref: Reference, version: str) -> list[dict[str, Any]]:
    names = [f["name"] for f in cat.features_for(version)]
    columns = zip(*(ref.features[name].tolist() for name in names), strict=True)
    return [
        {
            "features": dict(zip(names, values, strict=True)),
            "prediction": prediction,
            "score": score,
            "label": label,
        }
        for values, prediction, score, label in zip(
            columns, ref.prediction.tolist(), ref.score.tolist(), ref.label.tolist(), strict=True
        )
    ]


def upload_reference(version: ModelVersion, story: Story, uploaded_by: User) -> int:
    rows = reference_records(story.references[version.version], version.version)
    return reference_upload(version=version, rows=rows, source="json", uploaded_by=uploaded_by).row_count


def apply_stage(
    model: MonitoredModel,
    milestone: Milestone,
    story: Story,
    users: dict[str, User],
    report: SeedReport,
    clock: StoryClock,
) -> None:
    """A registry milestone: v2 registered in shadow (with its reference), then canary, then production."""
    if milestone.stage == "shadow":
        version = version_create(
            model=model,
            version=milestone.version,
            features=cat.features_for(milestone.version),
            stage="shadow",
            created_by=users["analyst"],
            **cat.VERSIONS[milestone.version],
        )
        clock.set(milestone.time + HOUR)
        report.reference_rows[version.version] = upload_reference(version, story, users["analyst"])
        return
    version = ModelVersion.objects.get(model=model, version=milestone.version)
    # Promotion is the committee's decision, recorded by the admin; the canary is the analyst's.
    who = users["admin"] if milestone.stage == "production" else users["analyst"]
    version_set_stage(version=version, stage=milestone.stage, changed_by=who, reason=milestone.text)


# --- telemetry ----------------------------------------------------------------------------------------


class _Records:
    """Builds API-shaped records for rows of the story, column by column."""

    def __init__(self, story: Story) -> None:
        p = story.predictions
        self.story = story
        self.ids = record_ids(story)
        self.ts = iso(p.ts)
        self.arrival = iso(p.label_arrival)
        self.names = {v: [f["name"] for f in cat.features_for(v)] for v in cat.VERSIONS}
        self.defects: dict[int, list[tuple[str, Any]]] = {}
        for d in p.defects:
            self.defects.setdefault(d.index, []).append((d.feature, d.value))
        self.lineage = {
            (source, pipeline, v): {
                "source": source,
                "pipeline_version": pipeline,
                "feature_set": cat.VERSIONS[v]["feature_set_version"],
            }
            for source in (cat.SOURCE_DIRECT, cat.SOURCE_PARTNER)
            for pipeline in (cat.PIPELINE_BEFORE, cat.PIPELINE_AFTER)
            for v in cat.VERSIONS
        }

    def predictions(self, rows: np.ndarray, version: str) -> list[dict[str, Any]]:
        p = self.story.predictions
        names = self.names[version]
        columns = zip(*(p.features[name][rows].tolist() for name in names), strict=True)
        attr_names = [n for n in p.attributions if n in names]
        with_attr = p.has_attributions[rows].tolist()
        attr_cols = list(zip(*(p.attributions[n][rows].tolist() for n in attr_names), strict=True))
        records = []
        for k, (row, values, ts, score, pred, latency, error, source, pipeline) in enumerate(
            zip(
                rows.tolist(),
                columns,
                self.ts[rows].tolist(),
                p.score[rows].tolist(),
                p.prediction[rows].tolist(),
                p.latency_ms[rows].tolist(),
                p.error[rows].tolist(),
                p.source[rows].tolist(),
                p.pipeline_version[rows].tolist(),
                strict=True,
            )
        ):
            features = dict(zip(names, values, strict=True))
            for name, bad in self.defects.get(row, ()):
                features[name] = bad
            record = {
                "id": str(self.ids[row]),
                "timestamp": ts,
                "features": features,
                "prediction": pred,
                "score": None if error else score,
                "latency_ms": latency,
                "status": "error" if error else "ok",
                "lineage": self.lineage[(source, pipeline, version)],
            }
            if with_attr[k]:
                record["attributions"] = dict(zip(attr_names, attr_cols[k], strict=True))
            records.append(record)
        return records

    def outcomes(self, rows: np.ndarray) -> list[dict[str, Any]]:
        p = self.story.predictions
        return [
            {"prediction_id": str(rid), "label": label, "timestamp": ts}
            for rid, label, ts in zip(
                self.ids[rows], p.label[rows].tolist(), self.arrival[rows].tolist(), strict=True
            )
        ]


def send_predictions(
    model: MonitoredModel, version: str, records: list[dict[str, Any]], report: SeedReport
) -> None:
    """As a careful client would: all or nothing first; if records are refused, resend the valid ones."""
    submitted_by = f"integration:{cat.INTEGRATION_KEY_NAME}"
    report.predictions_sent += len(records)
    try:
        result = predictions_ingest(model=model, version=version, records=records, submitted_by=submitted_by)
    except ApplicationError:
        result = predictions_ingest(
            model=model, version=version, records=records, partial=True, submitted_by=submitted_by
        )
    report.accepted += result.accepted
    report.rejected += len(result.rejected)
    report.flagged += result.flagged
    report.late += result.late
    report.batches += 1


def send_outcomes(model: MonitoredModel, records: list[dict[str, Any]], report: SeedReport) -> None:
    result = outcomes_ingest(
        model=model, records=records, submitted_by=f"integration:{cat.INTEGRATION_KEY_NAME}"
    )
    report.outcomes_sent += len(records)
    report.outcomes_accepted += result.accepted
    report.batches += 1


def record_health(
    model: MonitoredModel, story: Story, hours: np.ndarray, clock: StoryClock, report: SeedReport
) -> None:
    """One sample per hour (each sent when its hour is over); a day's samples in one transaction."""
    h = story.health
    stamps = iso(h.hour[hours]).tolist()
    with transaction.atomic():
        for k, i in enumerate(hours.tolist()):
            clock.set(int(h.hour[i]) + HOUR)
            health_record(
                model=model,
                data={
                    "timestamp": stamps[k],
                    "request_count": int(h.request_count[i]),
                    "error_count": int(h.error_count[i]),
                    "queue_depth": int(h.queue_depth[i]),
                    "cpu": float(h.cpu[i]),
                    "memory": float(h.memory[i]),
                },
            )
    report.health_samples += len(hours)


# --- the whole thing -----------------------------------------------------------------------------------


def demo_delete() -> bool:
    """Remove the demo model and everything recorded about it (for --reset). Users stay."""
    model = MonitoredModel.objects.filter(slug=cat.SLUG).first()
    if model is None:
        return False
    with transaction.atomic():
        # Largest tables first, loading ids only: a cascade from the model would load every row whole.
        Outcome.objects.filter(model=model).delete()
        PredictionLog.objects.filter(model=model).only("id").delete()
        ReferenceRow.objects.filter(dataset__version__model=model).delete()
        # A drill's events protect their drill, which the model's cascade would delete: events first.
        DriftEvent.objects.filter(model=model).delete()
        # Its runbooks would outlive it (shared, model emptied) and hold their slugs against the re-seed.
        Runbook.objects.filter(model=model).delete()
        model.delete()
    return True


def setup(story: Story, clock: StoryClock, report: SeedReport) -> tuple[dict[str, User], MonitoredModel]:
    """The cast a month before day 0; the model, v1 in production and its reference three weeks before;
    then the integration key the scoring service will use."""
    clock.set(story.start - 30 * DAY)
    users = ensure_users()
    personal_token(users["analyst"])
    clock.set(story.start - 21 * DAY)
    model, v1 = register_model(users)
    clock.set(story.start - 21 * DAY + HOUR)
    report.reference_rows["v1"] = upload_reference(v1, story, users["analyst"])
    clock.set(story.start - 20 * DAY)
    report.integration_key = integration_key_create(
        model=model, name=cat.INTEGRATION_KEY_NAME, created_by=users["admin"]
    )[1]
    return users, model


def replay(
    story: Story, *, batch_size: int = 5_000, progress: bool = True, deferred: Collection[str] = ()
) -> SeedReport:
    """Seed the story: `setup`, then every step of the timeline in time order. Stage milestones named
    in `deferred` are left to a later part of the demo (the experiment's decision promotes v2).

    Not one transaction: each service call commits on its own, as over the API, so the profile rebuild a
    reference upload schedules runs while the version has no rows yet. If anything fails (or the run is
    interrupted) the half-seeded demo is deleted, so the next run starts clean instead of skipping.
    """
    report = SeedReport()
    steps = timeline(story, batch_size=batch_size)
    try:
        with replayed_time() as clock:
            users, model = setup(story, clock, report)
            records = _Records(story)
            bar = tqdm(total=len(steps), unit="step", disable=not progress, file=sys.stderr, leave=False)
            for step in steps:
                clock.set(step.clock)
                bar.set_description(f"day {(step.clock - story.start) // DAY:>3}")
                if step.kind == "stage":
                    assert step.milestone is not None
                    if step.milestone.stage not in deferred:
                        apply_stage(model, step.milestone, story, users, report, clock)
                elif step.kind == "predictions":
                    send_predictions(
                        model, step.version, records.predictions(step.rows, step.version), report
                    )
                elif step.kind == "outcomes":
                    send_outcomes(model, records.outcomes(step.rows), report)
                else:
                    record_health(model, story, step.rows, clock, report)
                bar.update()
            bar.close()
    except BaseException:
        demo_delete()
        raise
    return report
