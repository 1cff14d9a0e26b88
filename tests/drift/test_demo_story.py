"""The demo story end to end at a small scale: telemetry, the daily analyses, and governance's response.

The shift is made larger than the default story's (half of the traffic from the partner channel), so
that a few hundred applications a day show it every day; the story's end is fixed, so the run is
reproducible. The database is transactional: policies run on commit after each analysis, as they do
when seeding, and must see each run in time order.
"""

from datetime import UTC, datetime, timedelta

from drift.demo import catalogue as cat
from drift.demo.story import DAY, StoryConfig, generate

END = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
SMALL = StoryConfig.scaled(20, per_day=200, reference_rows=1_000, partner_share=0.5)


def test_the_story_is_analysed_daily_the_shift_trips_the_policy_and_the_team_works_it(
    transactional_db, api, eager_celery
):
    from django.contrib.auth.models import User

    from drift.demo.tell import tell
    from drift.models import AnalysisRun
    from governance.models import Annotation, AuditEntry, DriftEvent, Drill, Incident, ServingState

    story = generate(SMALL, end=END)
    report = tell(story, progress=False)

    # Every complete day is analysed once per live version (both during the canary), in order.
    shift = story.config.shift_day
    complete_days = (story.end - story.start) // DAY
    runs = AnalysisRun.objects.filter(model__slug=cat.SLUG, kind="analysis").select_related("version")
    assert {int(r.window_start.timestamp()) for r in runs} == {
        story.start + d * DAY for d in range(complete_days)
    }
    assert all(r.window_end - r.window_start == timedelta(days=1) and r.status == "done" for r in runs)
    canary = story.time(story.config.canary_day)
    assert {r.version.version for r in runs if r.window_start.timestamp() == canary} == {"v1", "v2"}

    # The shift is flagged on every day from the shift day on, and on none before.
    share = cat.POLICIES[0]["rules"][0]["value"]
    shifted = [d for d in report.analyses.days if (d.share_drifted or 0) > share]
    assert [d.day for d in shifted] == list(range(shift, complete_days))
    assert {"channel", "credit_history_months", "customer_segment"} <= set(shifted[0].drifted)
    assert "partner_api" in AnalysisRun.objects.get(pk=shifted[0].run_id).narrative
    analyst = api(User.objects.get(username="analyst"))
    listed = analyst.get(f"/api/v1/models/{cat.SLUG}/analyses/?kind=analysis&limit=100")
    assert listed.status_code == 200 and listed.json()["count"] == runs.count()
    assert report.analyses.holdout_runs  # and the rolling holdout of the last day

    # The first shifted window trips the policy at the dispatcher's tick after it: human review.
    tripped_at = story.time(shift + 1) + 15 * 60
    entries = AuditEntry.objects.filter(model__slug=cat.SLUG)
    review = entries.get(action="serving_mode.change", after__mode="human_review")
    assert review.at.timestamp() == tripped_at and review.actor.startswith("policy:")
    event = DriftEvent.objects.get(policy__name=cat.POLICY_SHIFT)
    assert event.detected_at.timestamp() == tripped_at and event.windows == complete_days - shift
    incident = Incident.objects.get(events=event)
    assert incident.timeline.filter(kind="escalation").exists()  # nobody acknowledged it at night
    assert incident.runbook.slug == cat.RUNBOOK["slug"]  # the analyst's runbook, linked by the policy
    flags = Annotation.objects.filter(model__slug=cat.SLUG, created_by__username="frontline")
    assert {(f.target, f.status) for f in flags} == {
        ("segment", "accepted"),  # the partner channel: an improvement task on the shift's event
        ("prediction", "open"),
        ("segment", "open"),  # the triage queue has work in it
    }
    assert flags.get(status="accepted").task.event == event
    assert flags.get(target="prediction").prediction.score < cat.DECISION_THRESHOLD  # one it approved
    assert incident.title == cat.POLICIES[0]["rules"][0]["description"]  # in words, not "signal > 0.2"
    early = DriftEvent.objects.filter(detected_at__lt=datetime.fromtimestamp(tripped_at, UTC))
    assert all(e.status == "resolved" for e in early)  # one-day breaches, worked to the end

    # The team works it: analyst investigates, admin mitigates, returns the gate, closes the incident.
    assert event.acknowledged_by.username == "analyst" and cat.PIPELINE_AFTER in event.suspected_cause
    assert event.status == "mitigated" and cat.NEW_CHANNEL in event.actions_taken
    assert (incident.severity, incident.status, incident.commander.username) == ("SEV2", "resolved", "admin")
    normal = entries.get(action="serving_mode.change", after__mode="normal")
    assert normal.user.username == "admin" and normal.reason == cat.GATE_NORMAL_REASON
    assert ServingState.objects.get(model__slug=cat.SLUG).mode == "normal"
    people = entries.exclude(user=None)
    assert {"drift_event.transition", "incident.transition", "policy.create", "channel.create"} <= set(
        people.values_list("action", flat=True)
    )
    assert all(story.start - 30 * DAY <= e.at.timestamp() <= story.end for e in people)  # story time
    assert not report.governance.skipped and report.emails > 0

    # The incident's postmortem is published, and a drill on a quiet day is on record, finished.
    assert incident.postmortem.status == "published" and incident.postmortem.action_items.count() == 3
    drill = Drill.objects.get(model__slug=cat.SLUG)
    assert (
        drill.status == "completed" and drill.report["detected"] and drill.ended_at.timestamp() < tripped_at
    )
