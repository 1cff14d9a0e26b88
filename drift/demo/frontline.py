"""The underwriters' side of the demo story: what the frontline user flags while the shift is worked.

The morning after the population shift trips its policy, the underwriter (catalogue.USERS' frontline
user) flags the partner channel as a data problem and one partner application he would not have
approved; the analyst accepts the channel flag as an improvement task on the shift's event. The next
afternoon he flags thin-file new customers; that flag stays open, so the triage queue has work in it.
Every flag goes through governance's annotation services, audited like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User

from drift.demo import catalogue as cat
from drift.demo.story import DAY, HOUR
from drift.models import MonitoredModel, PredictionLog
from governance.models import Annotation, AnnotationStatus, DriftEvent
from governance.services.annotations import annotation_accept, annotation_create

Plan = Callable[[int, str, Callable[[], None]], None]  # Agenda.at(when, what, action)


def plan_flags(
    at: Plan, *, model: MonitoredModel, users: dict[str, User], event: DriftEvent, morning: int
) -> None:
    """Plan the underwriter's flags and the analyst's triage around the shift event detected on the day
    that starts at `morning` (midnight UTC)."""
    frontline, analyst = users["frontline"], users["analyst"]
    flagged: dict[str, Annotation] = {}

    def flag_channel() -> None:
        flagged["channel"] = annotation_create(
            model=model,
            by=frontline,
            category="data_problem",
            note=cat.FLAG_PARTNER_CHANNEL,
            segment={"feature": "channel", "value": cat.NEW_CHANNEL},
        )

    def flag_application() -> None:
        # The shift day's first partner application the model approved on its own (score below the
        # decision threshold): the kind he would have checked by hand.
        since = datetime.fromtimestamp(morning - DAY, tz=UTC)
        row = (
            PredictionLog.objects.filter(
                model=model,
                is_drill=False,
                timestamp__gte=since,
                timestamp__lt=since + timedelta(days=1),
                features__channel=cat.NEW_CHANNEL,
                score__lt=cat.DECISION_THRESHOLD,
            )
            .order_by("timestamp", "id")
            .first()
        )
        if row is not None:
            annotation_create(
                model=model,
                by=frontline,
                category="wrong_prediction",
                note=cat.FLAG_PARTNER_APPLICATION,
                record_id=row.record_id,
            )

    def accept_channel() -> None:
        annotation = flagged.get("channel")
        if annotation is not None:
            annotation_accept(annotation=annotation, by=analyst, title=cat.FLAG_TASK_TITLE, event=event)

    def flag_thin_files() -> None:
        annotation_create(
            model=model,
            by=frontline,
            category="edge_case",
            note=cat.FLAG_THIN_FILES,
            segment={"feature": "customer_segment", "value": "new"},
        )

    at(morning + int(8.25 * HOUR), "the underwriter flags the partner channel", flag_channel)
    at(morning + int(8.4 * HOUR), "the underwriter flags a partner application", flag_application)
    at(morning + 11 * HOUR, "the analyst accepts the channel flag as a task", accept_channel)
    at(morning + DAY + 16 * HOUR, "the underwriter flags thin-file new customers", flag_thin_files)


def summary(model: MonitoredModel) -> str:
    """The flags in words, for the seed's summary."""
    flags = Annotation.objects.filter(model=model)
    accepted = flags.filter(status=AnnotationStatus.ACCEPTED).count()
    waiting = flags.filter(status=AnnotationStatus.OPEN).count()
    tasks = "an improvement task" if accepted == 1 else "improvement tasks"
    return (
        f"{flags.count()} flags by the underwriter: {accepted} accepted as {tasks}, {waiting} open for triage"
    )
