"""The governance story: the team's policies, and what the people do when they trip.

Before the analyses run, the admin sets up the on-call channel and its escalation path and the analyst
writes the model's policies (catalogue.POLICIES), three weeks before day 0. The analyses then run in
time order; every finished run goes through the policies as in production. Between the days, an
`Agenda` plays what the people do, at story times, through governance's services (each one audited):

- the population shift (day 60 on) trips 'Population shift': human review, a drift event, a SEV2 incident
  (with the runbook the analyst wrote for it), an email, a retraining request. Nobody acknowledges the
  incident at night, so it escalates after 30 minutes. In the morning the admin takes command, the
  analyst acknowledges and investigates the event (suspected cause: pipeline 2.5.0's partner channel,
  self-declared incomes); two days later the admin mitigates (partner applications to manual
  underwriting). Near the end of the story the admin returns the gate to normal with a reason, resolves
  the incident and publishes its postmortem. The event stays open, mitigated: the new population is still
  there, and closing an event whose breach continues would only make the next window open a new one;
- the events that follow from it (income's drift, the estimated accuracy) are linked to it and
  mitigated with it; the underwriter flags what he sees in his queue, and the analyst triages it
  (drift.demo.frontline);
- one-day breaches (income nulls on day 52, scoring errors on days 23 and 71) are acknowledged,
  investigated, mitigated and resolved once the next window is clean;
- on a quiet day (a third into the story) the analyst runs a drill on the income rule: a known change
  judged by the real policies in drill mode, its events worked, the drill ended with its report.

Scenes after the story's end (short stories) are skipped and reported.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from drift.demo import catalogue as cat
from drift.demo import frontline
from drift.demo.seed import StoryClock
from drift.demo.story import DAY, HOUR, Story
from drift.models import MonitoredModel
from governance.models import (
    CLOSED_STATUSES,
    AuditEntry,
    Delivery,
    DriftEvent,
    EventStatus,
    Incident,
    IncidentStatus,
    Policy,
    PostmortemStatus,
    ServingState,
)
from governance.services.audit import Actor
from governance.services.drills import drill_end, drill_start
from governance.services.events import drift_event_transition
from governance.services.gate import serving_mode_set
from governance.services.incidents import (
    escalation_path_set,
    incident_timeline_add,
    incident_transition,
    incident_update,
    incidents_escalate,
)
from governance.services.notifications import channel_create
from governance.services.policies import policy_create
from governance.services.postmortems import (
    action_item_add,
    postmortem_create,
    postmortem_transition,
    postmortem_update,
)
from governance.services.runbooks import runbook_create

MINUTE = 60
# Events of these signals that open while the shift is being worked are its effects, worked with it.
LINKED_SIGNALS = ("estimated_performance.", "data_drift.")
LIFECYCLE = [
    EventStatus.DETECTED,
    EventStatus.ACKNOWLEDGED,
    EventStatus.INVESTIGATING,
    EventStatus.MITIGATED,
    EventStatus.RESOLVED,
]


class Agenda:
    """What people do at story times, played in time order between the days' analyses."""

    def __init__(self, clock: StoryClock, end: int) -> None:
        self.clock, self.end = clock, end
        self._items: list[tuple[int, int, str, Callable[[], None]]] = []
        self._order = itertools.count()
        self.skipped: list[str] = []
        self.done: list[tuple[int, str]] = []

    def at(self, when: int, what: str, action: Callable[[], None]) -> None:
        heapq.heappush(self._items, (when, next(self._order), what, action))

    def run_until(self, until: int) -> None:
        """Play every scene due before `until` (scenes may plan more scenes)."""
        while self._items and self._items[0][0] < until:
            when, _, what, action = heapq.heappop(self._items)
            if when > self.end:
                self.skipped.append(what)
                continue
            self.clock.set(when)
            action()
            self.done.append((when, what))

    def finish(self) -> None:
        self.run_until(self.end + 1)
        self.skipped += [what for _, _, what, _ in sorted(self._items)]
        self._items.clear()


@dataclass
class GovernanceReport:
    policies: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    human_review_at: datetime | None = None
    serving_mode: str = "normal"
    audit_entries: int = 0
    deliveries: int = 0
    postmortem: str = ""
    drill: str = ""
    flags: str = ""
    skipped: list[str] = field(default_factory=list)


class GovernanceStory:
    """Set up before the analyses (`setup`), then fed by them: `before(t)` plays the scenes due before
    the next analyses at story time `t`, `after_day()` notices new events and plans the people's work,
    `finish()` plays what is left."""

    def __init__(
        self, story: Story, model: MonitoredModel, users: dict[str, User], clock: StoryClock
    ) -> None:
        self.story, self.model, self.users, self.clock = story, model, users, clock
        self.agenda = Agenda(clock, story.end)
        self.analyst, self.admin = users["analyst"], users["admin"]
        self.seen: set[int] = set()
        self.shift_event: DriftEvent | None = None
        self.shift_mitigated_at: int | None = None
        self.report = GovernanceReport()

    # --- before day 0 ----------------------------------------------------------------------------------

    def setup(self) -> None:
        """The on-call channel and its escalation path (admin), then the runbook and the policies
        (analyst); the population-shift policy links the runbook, so its incident opens with it."""
        self.clock.set(self.story.start - 20 * DAY + 2 * HOUR)
        channel = channel_create(model=self.model, actor=Actor.of(self.admin), **cat.ALERT_CHANNEL)
        escalation_path_set(
            model=self.model,
            steps=[{"channel": channel.pk, "after_minutes": cat.ESCALATE_AFTER_MINUTES}],
            by=self.admin,
        )
        self.clock.set(self.story.start - 19 * DAY + 9 * HOUR)
        spec = cat.RUNBOOK
        runbook = runbook_create(
            slug=spec["slug"],
            title=spec["title"],
            body=spec["body"],
            model=self.model,
            by=self.analyst,
            reason=spec["reason"],
        )
        for k, spec in enumerate(cat.POLICIES):
            self.clock.set(self.story.start - 19 * DAY + (10 + k) * HOUR)
            policy_create(
                model=self.model,
                name=spec["name"],
                rules=spec["rules"],
                by=self.analyst,
                reason=spec["reason"],
                runbook=runbook if spec["name"] == cat.RUNBOOK["policy"] else None,
            )
            self.report.policies.append(spec["name"])
        drill = self.story.start + round(self.story.config.days / 3) * DAY + 14 * HOUR
        self.agenda.at(drill, "the analyst runs a drill on the income rule", self._drill)

    # --- between the days -------------------------------------------------------------------------------

    def before(self, t: int) -> None:
        self.agenda.run_until(t)

    def after_day(self, _day: int = 0) -> None:
        """Plan the people's work on the events the day's analyses opened."""
        new = (
            DriftEvent.objects.filter(model=self.model, drill__isnull=True)
            .exclude(pk__in=self.seen)
            .select_related("policy")
        )
        # The shift's event first: the others of the same night are planned as its effects.
        ordered = sorted(
            new, key=lambda e: (e.detected_at, e.policy is None or e.policy.name != cat.POLICY_SHIFT, e.pk)
        )
        for event in ordered:
            self.seen.add(event.pk)
            name = event.policy.name if event.policy else ""
            if name == cat.POLICY_SHIFT and self.shift_event is None:
                self._plan_shift(event)
            elif event.signal.startswith(LINKED_SIGNALS) and self.shift_event is not None:
                self._plan_linked(event)
            else:
                self._plan_one_day(event)

    def finish(self) -> GovernanceReport:
        self.agenda.finish()
        self.report.skipped = self.agenda.skipped
        return self._summarise()

    # --- the scenes -------------------------------------------------------------------------------------

    def _morning(self, event: DriftEvent, hour: float) -> int:
        """`hour` o'clock on the day the event was detected (detection happens just after midnight)."""
        detected = int(event.detected_at.timestamp())
        return detected // DAY * DAY + int(hour * HOUR)

    def _event(self, event: DriftEvent) -> DriftEvent:
        return DriftEvent.objects.get(pk=event.pk)

    def advance(self, event: DriftEvent, to: str, by: User, note: str = "", **texts: str) -> None:
        """Move the event on to `to`, through the lifecycle's steps in between if an earlier scene did not
        happen; nothing when it is already there or past it (a person acts on what is open)."""
        current = self._event(event)
        if current.status in CLOSED_STATUSES or LIFECYCLE.index(current.status) >= LIFECYCLE.index(to):
            return
        for step in LIFECYCLE[LIFECYCLE.index(current.status) + 1 : LIFECYCLE.index(to)]:
            current = drift_event_transition(event=current, to=step, by=by)
        if "actions_taken" in texts:  # the automatic actions already recorded stay at the top
            texts["actions_taken"] = f"{current.actions_taken}\n{texts['actions_taken']}".strip()
        drift_event_transition(event=current, to=to, by=by, note=note, **texts)

    def _plan_shift(self, event: DriftEvent) -> None:
        self.shift_event = event
        detected = int(event.detected_at.timestamp())
        incident = Incident.objects.filter(events=event).first()
        a = self.agenda
        if incident is not None:
            a.at(
                detected + (cat.ESCALATE_AFTER_MINUTES + 1) * MINUTE,
                "the unacknowledged incident escalates",
                self._escalate,
            )
            a.at(
                self._morning(event, 8.5),
                "the admin takes command of the incident",
                lambda: self._command(incident),
            )
        a.at(
            self._morning(event, 8.75),
            "the analyst acknowledges the shift event",
            lambda: self.advance(event, EventStatus.ACKNOWLEDGED, self.analyst, note=cat.SHIFT_ACK_NOTE),
        )
        a.at(
            self._morning(event, 10.5),
            "the analyst investigates: pipeline 2.5.0's partner channel",
            lambda: self.advance(
                event,
                EventStatus.INVESTIGATING,
                self.analyst,
                note="Partner channel suspected.",
                suspected_cause=cat.SHIFT_SUSPECTED_CAUSE,
            ),
        )
        if incident is not None:
            a.at(
                self._morning(event, 15 + DAY / HOUR),
                "the analyst records her findings on the incident",
                lambda: incident_timeline_add(incident=incident, by=self.analyst, text=cat.SHIFT_FINDINGS),
            )
        frontline.plan_flags(
            a.at, model=self.model, users=self.users, event=event, morning=self._morning(event, 0)
        )
        self.shift_mitigated_at = self._morning(event, 14 + 2 * DAY / HOUR)
        a.at(
            self.shift_mitigated_at,
            "the admin mitigates: partner applications to underwriters",
            self._mitigate_shift,
        )
        days = self.story.config.days
        detected_day = (detected - self.story.start) // DAY
        closing = self.story.start + max(days - 4, detected_day + 3) * DAY
        a.at(closing + 10 * HOUR, "the admin returns the gate to normal, with a reason", self._gate_normal)
        if incident is not None:
            a.at(
                closing + 11 * HOUR,
                "the admin resolves the incident",
                lambda: self._resolve_incident(incident),
            )
            a.at(
                closing + DAY + 10 * HOUR,
                "the incident's postmortem is published",
                lambda: self._postmortem(incident),
            )

    def _escalate(self) -> None:
        incidents_escalate(now=self.clock())

    def _command(self, incident: Incident) -> None:
        incident = Incident.objects.get(pk=incident.pk)
        incident_update(
            incident=incident,
            by=self.admin,
            commander=self.admin.pk,
            scribe=self.analyst.pk,
            sme=self.analyst.pk,
            rollback_plan="Keep human review on; if partner volume overwhelms the underwriters, pause the "
            f"{cat.NEW_CHANNEL} channel at the gateway.",
        )
        incident_transition(
            incident=incident,
            to=IncidentStatus.ACTIVE,
            by=self.admin,
            note=f"Taking command; {self.analyst.first_name or self.analyst.username} investigates.",
        )

    def _mitigate_shift(self) -> None:
        assert self.shift_event is not None
        self.advance(
            self.shift_event,
            EventStatus.MITIGATED,
            self.admin,
            note="Partner applications go to manual underwriting.",
            actions_taken=cat.SHIFT_ACTIONS,
            results=cat.SHIFT_RESULTS,
        )
        for incident in Incident.objects.filter(events=self.shift_event, status=IncidentStatus.ACTIVE):
            incident_transition(
                incident=incident,
                to=IncidentStatus.MONITORING,
                by=self.admin,
                note="Mitigation in place; watching the direct channels and the underwriters' queue.",
            )

    def _gate_normal(self) -> None:
        serving_mode_set(model=self.model, mode="normal", reason=cat.GATE_NORMAL_REASON, by=self.admin)

    def _resolve_incident(self, incident: Incident) -> None:
        incident = Incident.objects.get(pk=incident.pk)
        if incident.status != IncidentStatus.RESOLVED:
            incident_transition(
                incident=incident,
                to=IncidentStatus.RESOLVED,
                by=self.admin,
                note="Mitigation held; serving is back to normal for the direct channels.",
            )

    def _plan_linked(self, event: DriftEvent) -> None:
        """An effect of the shift (the accuracy estimate, income's drift): worked with the shift event."""
        shift = self.shift_event
        assert shift is not None
        note = f"Same cause as event #{shift.pk}."
        self.agenda.at(
            self._morning(event, 9.25),
            f"the analyst links event #{event.pk} to the shift",
            lambda: self.advance(event, EventStatus.ACKNOWLEDGED, self.analyst, note=note),
        )
        self.agenda.at(
            self._morning(event, 9.5),
            f"the analyst investigates event #{event.pk}",
            lambda: self.advance(
                event, EventStatus.INVESTIGATING, self.analyst, note=note, suspected_cause=cat.ACCURACY_CAUSE
            ),
        )
        mitigate = max(self.shift_mitigated_at or 0, self._morning(event, 10)) + 5 * MINUTE
        self.agenda.at(
            mitigate,
            f"event #{event.pk} is mitigated with the shift",
            lambda: self.advance(
                event,
                EventStatus.MITIGATED,
                self.admin,
                note=f"Covered by the mitigation of event #{shift.pk}.",
                actions_taken=cat.SHIFT_ACTIONS,
            ),
        )

    def _one_day_texts(self, event: DriftEvent) -> tuple[str, str]:
        if event.signal == "data_quality.missing.income":
            return cat.INCOME_CAUSE, cat.INCOME_ACTIONS
        run = event.runs.order_by("window_start").first()
        day = (int(run.window_start.timestamp()) - self.story.start) // DAY if run else -1
        for inc in self.story.config.incidents:
            if inc.day == day:
                return inc.what, inc.fix
        return "Under investigation.", "Watching the next windows."

    def _plan_one_day(self, event: DriftEvent) -> None:
        """A breach of one day: acknowledged, investigated and mitigated that morning; resolved once a
        later window is clean."""
        cause, actions = self._one_day_texts(event)
        a = self.agenda
        a.at(
            self._morning(event, 8 + 2 / 3),
            f"the analyst acknowledges event #{event.pk}",
            lambda: self.advance(event, EventStatus.ACKNOWLEDGED, self.analyst),
        )
        a.at(
            self._morning(event, 9 + 1 / 3),
            f"the analyst investigates event #{event.pk}",
            lambda: self.advance(event, EventStatus.INVESTIGATING, self.analyst, suspected_cause=cause),
        )
        a.at(
            self._morning(event, 11.5),
            f"event #{event.pk} is mitigated",
            lambda: self.advance(event, EventStatus.MITIGATED, self.admin, actions_taken=actions),
        )
        a.at(
            self._morning(event, 9 + DAY / HOUR),
            f"event #{event.pk} is resolved",
            lambda: self._resolve_when_clean(event),
        )

    def _resolve_when_clean(self, event: DriftEvent) -> None:
        current = self._event(event)
        if current.status in CLOSED_STATUSES:
            return
        if current.breach_active:  # not yet: look again tomorrow
            self.agenda.at(
                int(self.clock().timestamp()) + DAY,
                f"event #{event.pk} is resolved",
                lambda: self._resolve_when_clean(event),
            )
            return
        self.advance(
            event,
            EventStatus.RESOLVED,
            self.admin,
            note="The next window is back within limits.",
            results="The following day's analysis no longer breaches the rule.",
        )

    # --- postmortems and drills --------------------------------------------------------------------------

    def _postmortem(self, incident: Incident) -> None:
        self.report.postmortem = postmortem_publish(incident=incident, story=self, by=self.admin)

    def _drill(self) -> None:
        self.report.drill = drill_run(model=self.model, story=self, by=self.analyst)

    # --- the summary ------------------------------------------------------------------------------------

    def _summarise(self) -> GovernanceReport:
        r, start = self.report, self.story.start

        def day(t: datetime | None) -> int | None:
            return None if t is None else (int(t.timestamp()) - start) // DAY

        events = DriftEvent.objects.filter(model=self.model, drill__isnull=True).select_related("policy")
        for e in events.order_by("detected_at", "id"):
            r.events.append(
                {
                    "id": e.pk,
                    "policy": e.policy.name if e.policy else "",
                    "title": e.title,
                    "status": e.status,
                    "detected_day": day(e.detected_at),
                    "windows": e.windows,
                }
            )
        for i in Incident.objects.filter(model=self.model).order_by("opened_at", "id"):
            r.incidents.append(
                {
                    "id": i.pk,
                    "severity": i.severity,
                    "title": i.title,
                    "status": i.status,
                    "opened_day": day(i.opened_at),
                    "resolved_day": day(i.resolved_at),
                }
            )
        review = (
            AuditEntry.objects.filter(
                model=self.model, action="serving_mode.change", after__mode="human_review"
            )
            .order_by("at")
            .first()
        )
        r.human_review_at = review.at if review else None
        state = ServingState.objects.filter(model=self.model).first()
        r.serving_mode = state.mode if state else "normal"
        r.audit_entries = AuditEntry.objects.filter(model=self.model).count()
        r.deliveries = Delivery.objects.filter(channel__model=self.model).count()
        r.flags = frontline.summary(self.model)
        return r


def postmortem_publish(*, incident: Incident, story: GovernanceStory, by: User) -> str:
    """The analyst writes the incident's postmortem and its action items; the admin (`by`) publishes it.
    Returns what was done, in words."""
    analyst = story.analyst
    clock = story.clock
    start = int(clock().timestamp())
    pm = postmortem_create(incident=incident, by=analyst, title=cat.POSTMORTEM["title"])
    clock.set(start + 20 * MINUTE)
    postmortem_update(postmortem=pm, by=analyst, **{k: v for k, v in cat.POSTMORTEM.items() if k != "title"})
    clock.set(start + 30 * MINUTE)
    postmortem_transition(postmortem=pm, to=PostmortemStatus.IN_REVIEW, by=analyst)
    clock.set(start + 90 * MINUTE)
    pm = postmortem_transition(
        postmortem=pm, to=PostmortemStatus.PUBLISHED, by=by, note="Reviewed with the team."
    )
    owners = {"admin": by, "analyst": analyst}
    for title, role, due_in in cat.POSTMORTEM_ACTIONS:
        due = (clock() + timedelta(days=due_in)).date()
        action_item_add(postmortem=pm, title=title, by=by, owner=owners[role].pk, due_date=due)
    return f"#{pm.pk} '{pm.title}' published with {len(cat.POSTMORTEM_ACTIONS)} action items"


def drill_run(*, model: MonitoredModel, story: GovernanceStory, by: User) -> str:
    """A drill from start to end: the analyst (`by`) injects the known change, the policies judge it in
    drill mode, she works the drill's events and ends it. Returns the drill's summary."""
    clock = story.clock
    start = int(clock().timestamp())
    spec = cat.DRILL
    drill = drill_start(model=model, scenario=spec["scenario"], by=by, rows=spec["rows"], seed=spec["seed"])
    steps = (
        (20, EventStatus.ACKNOWLEDGED, {}),
        (35, EventStatus.INVESTIGATING, {"suspected_cause": spec["cause"]}),
        (50, EventStatus.MITIGATED, {"actions_taken": spec["actions"]}),
    )
    for minutes, to, texts in steps:
        clock.set(start + minutes * MINUTE)
        for event in DriftEvent.objects.filter(drill=drill).exclude(status__in=CLOSED_STATUSES):
            story.advance(event, to, by, **texts)
    clock.set(start + 60 * MINUTE)
    drill = drill_end(drill=drill, by=by, note=spec["note"])
    return str(drill.report.get("summary", f"drill #{drill.pk} ended"))


def policies_of(model: MonitoredModel) -> list[Policy]:
    return list(Policy.objects.filter(model=model, is_active=True).order_by("id"))


def summary_lines(report: GovernanceReport, story: Story) -> list[str]:
    """What the policies and the people did, for the seed's summary."""
    lines = [f"{len(report.policies)} policies: " + ", ".join(f"'{p}'" for p in report.policies)]
    if report.human_review_at is not None:
        day = (int(report.human_review_at.timestamp()) - story.start) // DAY
        at = f"{report.human_review_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"human review from day {day} ({at}); serving mode now {report.serving_mode}")
    for e in report.events:
        lines.append(
            f"event #{e['id']} day {e['detected_day']} [{e['status']}] {e['title']} "
            f"({e['policy']}, {e['windows']} window{'s' if e['windows'] != 1 else ''})"
        )
    for i in report.incidents:
        resolved = f", resolved day {i['resolved_day']}" if i["resolved_day"] is not None else ""
        lines.append(
            f"incident #{i['id']} {i['severity']} opened day {i['opened_day']}{resolved} [{i['status']}]"
        )
    lines.append(f"{report.audit_entries} audit entries, {report.deliveries} notifications")
    lines.append(f"postmortem: {report.postmortem or 'none'}")
    lines.append(f"drill: {report.drill or 'none'}")
    lines.append(f"triage: {report.flags or 'no flags'}")
    if report.skipped:
        lines.append(f"not reached before the story's end: {'; '.join(report.skipped)}")
    return lines
