"""The whole demo story, in order: telemetry, then governance's setup, then the daily analyses with the
people's work (and the v2 experiment's scenes) between them. The seed command calls `tell`; each part
lives in its own module."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core import mail
from django.test.utils import override_settings

from drift.demo import catalogue as cat
from drift.demo.analyses import AnalysesReport, analyse_story
from drift.demo.experiment import DEFERRED_STAGES, ExperimentReport, ExperimentStory
from drift.demo.governance import GovernanceReport, GovernanceStory
from drift.demo.seed import SeedReport, demo_delete, replay, replayed_time
from drift.demo.story import Story
from drift.models import MonitoredModel

# While seeding, notifications are delivered (and recorded as sent) to an in-memory mailbox: ninety
# days of alerts should neither flood the console nor reach a real SMTP server.
SEEDING_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class DemoReport:
    telemetry: SeedReport
    analyses: AnalysesReport | None = None
    governance: GovernanceReport | None = None
    experiment: ExperimentReport | None = None
    emails: int = 0


def cast() -> dict[str, User]:
    return {spec["role"]: User.objects.get(username=spec["username"]) for spec in cat.USERS}


def tell(
    story: Story, *, batch_size: int = 5_000, analyses: bool = True, progress: bool = True
) -> DemoReport:
    """Seed the story. If anything fails (or the run is interrupted) the half-seeded demo is deleted."""
    with override_settings(EMAIL_BACKEND=SEEDING_EMAIL_BACKEND):
        # The v2 promotion is the experiment's decision when the people's story is told.
        deferred = DEFERRED_STAGES if analyses else ()
        report = DemoReport(replay(story, batch_size=batch_size, progress=progress, deferred=deferred))
        if not analyses:
            return report
        outbox = len(getattr(mail, "outbox", []))
        try:
            with replayed_time() as clock:
                model = MonitoredModel.objects.get(slug=cat.SLUG)
                people = GovernanceStory(story, model, cast(), clock)
                people.setup()
                trial = ExperimentStory(story, model, cast(), people.agenda)
                trial.plan()
                report.analyses = analyse_story(
                    story,
                    model,
                    clock.set,
                    before=people.before,
                    after_day=people.after_day,
                    progress=progress,
                )
                report.governance = people.finish()
                report.experiment = trial.report()
        except BaseException:
            demo_delete()
            raise
        report.emails = len(getattr(mail, "outbox", [])) - outbox
    return report
