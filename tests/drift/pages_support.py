"""A small credit-risk story with analyses and some governance state, for the page and browser tests.

`seed_story()` replays the demo through the services (seed_demo), rebuilds label fragments (idempotent,
so it works whether or not ingestion writes them yet), analyses each complete day of the production
version, and adds an open critical event, a serving mode and an incident, so every part of the pages has
something to show. `unseed()` removes all of it (the module fixtures share one story across tests).
"""

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from drift.demo import catalogue as cat
from drift.demo.seed import demo_delete
from drift.engine.windows import split
from drift.models import AnalysisRun, LabelFragment, ModelVersion, MonitoredModel, RunStatus
from drift.services.analyses import analysis_execute, analysis_request
from drift.services.labels import labels_rebuild

DAYS = 8
PER_DAY = 120
PASSWORDS = {spec["role"]: (spec["username"], cat.demo_password(spec["username"])) for spec in cat.USERS}


def seed_story(*, days: int = DAYS, per_day: int = PER_DAY, governance: bool = True) -> MonitoredModel:
    call_command(
        "seed_demo",
        "--days",
        str(days),
        "--per-day",
        str(per_day),
        "--reference-rows",
        "1500",
        "--quiet",
        "--force",
        "--reset",
        stdout=StringIO(),
    )
    model = MonitoredModel.objects.get(slug=cat.SLUG)
    for version in ModelVersion.objects.filter(model=model):
        if not LabelFragment.objects.filter(version=version).exists():  # outcomes not profiled yet
            labels_rebuild(version=version)
    production = model.versions.get(stage="production")
    now = timezone.now()
    # seed_demo may analyse the days itself; analyse whichever days it has not.
    for start, end in split("daily", now - timedelta(days=days), now - timedelta(days=1)):
        if AnalysisRun.objects.filter(version=production, window_start=start, status=RunStatus.DONE).exists():
            continue
        run = analysis_request(
            model=model, window_start=start, window_end=end, version=production, enqueue=False
        )
        analysis_execute(run_id=run.pk)
    if governance:
        add_governance(model)
    return model


def add_governance(model: MonitoredModel) -> None:
    """An open critical event in the charted range, a stricter serving mode, an open incident."""
    from governance.models import DriftEvent, Incident, ServingState

    latest = AnalysisRun.objects.filter(model=model, status=RunStatus.DONE).order_by("-window_start").first()
    at = latest.window_start + timedelta(hours=6) if latest else timezone.now()
    event = DriftEvent.objects.create(
        model=model,
        signal="data_drift.share_drifted",
        severity="critical",
        title="Share of changed inputs above 30%",
        detected_at=at,
        last_seen_at=at,
    )
    # The demo's own governance story may already have moved the model: take its state over.
    state, _ = ServingState.objects.update_or_create(
        model=model,
        defaults={
            "mode": "human_review",
            "reason": "Inputs changed: decisions go to underwriters",
            "since": at,
        },
    )
    state.events.add(event)
    incident = Incident.objects.create(
        model=model,
        title="Partner channel shifts the applicant mix",
        severity="SEV2",
        opened_by="admin",
        opened_at=at,
    )
    incident.events.add(event)


def forget_events(models: Any) -> None:
    """Governance events first: one raised by a drill protects the drill, which would stop the model's
    cascade (DriftEvent.drill is on_delete=PROTECT)."""
    from governance.models import DriftEvent

    DriftEvent.objects.filter(model__in=models).delete()


def unseed() -> None:
    forget_events(MonitoredModel.objects.filter(slug=cat.SLUG))
    demo_delete()
    User.objects.filter(username__in=[u for u, _ in PASSWORDS.values()]).delete()
    forget_audit()


def forget_audit() -> None:
    """The story's audit rows outlive its model by design, and this fixture commits them, so later
    tests would see them. PostgreSQL's trigger refuses DELETE on the audit table; TRUNCATE is the
    administrator's tool it does not cover, and fine for a test database."""
    from django.db import connection

    from governance.models import AuditEntry

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {AuditEntry._meta.db_table}")
    else:
        AuditEntry.objects.all().delete()


def login(client: Any, role: str) -> None:
    username, password = PASSWORDS[role]
    assert client.login(username=username, password=password), f"cannot sign in as {username}"


def plain_static_files(settings: Any) -> None:
    """Production serves hashed names from collectstatic's manifest; tests have no manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def seeded(django_db_blocker: Any, **kwargs: Any) -> Iterator[MonitoredModel]:
    """Body of a module-scoped fixture: the story, shared by a module's tests, removed afterwards."""
    with django_db_blocker.unblock():
        model = seed_story(**kwargs)
    yield model
    with django_db_blocker.unblock():
        unseed()


def as_role(role: str) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=PASSWORDS[role][0]))
    return client
