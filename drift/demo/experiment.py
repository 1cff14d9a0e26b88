"""The demo's A/B test: v2 (challenger) against v1 (champion) over the canary week, through the services.

The story's canary is the experiment: from day 38 09:00 the scoring service sends 10 % of
applications to v2 (`StoryConfig.canary_share`), which is the split the experiment's allocation
declares, so the sample-ratio check has real traffic to judge. Scenes on the governance story's
agenda, at story times:

- the day v2 is registered in shadow, the analyst defines the experiment: value per decision as the
  primary metric, €60 per decision as the smallest effect worth detecting (about what a week of
  10 % canary can show), p95 latency at most 30 % above v1's and serving errors at most half a point
  above v1's as guardrails, the canary week as its planned duration;
- at the canary she starts it (criteria locked, allocation 90/10);
- every morning the evaluator looks at it, as beat does every 15 minutes (always-valid results may be
  read at any frequency), until a rule stops it: in the default story its planned end, as a 10 %
  canary week cannot tell the two versions apart on value per decision;
- at the story's promotion time (day 45 10:00) the analyst records the committee's decision: promote
  v2, with the look's evidence, through governance's `version_promote`, which archives v1. This
  replaces the story's registry milestone (`DEFERRED_STAGES`: replay leaves it to this scene). In
  stories too short for any rule to fire first, she stops it by hand when the committee meets.

Like the analyses, the looks read with knowledge the evaluator would not have had yet: the outcomes of
the canary's predictions arrive two to five weeks later and are already stored when the looks run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from drift.demo.governance import Agenda
from drift.demo.story import DAY, HOUR, Story
from drift.engine.experiment_advice import recommendation
from drift.models import Experiment, ExperimentStatus, MonitoredModel, StopReason
from drift.services.experiment_definition import ExperimentSpec
from drift.services.experiment_evaluation import experiment_evaluate
from drift.services.experiments import (
    experiment_create,
    experiment_decide,
    experiment_start,
    experiment_stop,
)
from governance.services.audit import Actor

# Stage milestones this module performs in the full demo; `replay` skips them then.
DEFERRED_STAGES = ("production",)
NAME = "v2 against v1: canary week"
HYPOTHESIS = (
    "v2 adds the bureau's revolving utilisation and should refuse more future defaulters, earning more "
    "per decision than v1, without slower answers or more serving errors."
)
MDE_EUR = 60.0
GUARDRAILS = [{"metric": "latency_p95", "margin": 0.3}, {"metric": "error_rate", "margin": 0.005}]
LOOK_AT = 9.5  # hour of the daily look
COMMITTEE = (
    "The Retail Credit model committee promotes v2 for the bureau utilisation feed (offline AUC 0.783 "
    "vs 0.768 on the 2024-Q2 hold-out); its outcomes stay under watch."
)


@dataclass
class ExperimentReport:
    experiment_id: int | None = None
    looks: int = 0
    stop_reason: str = ""
    stopped_day: int | None = None
    decision: str = ""
    decided_by: str = ""


class ExperimentStory:
    """Plans the experiment's scenes on the governance story's agenda (`plan`), then reports."""

    def __init__(self, story: Story, model: MonitoredModel, users: dict[str, User], agenda: Agenda) -> None:
        self.story, self.model, self.agenda = story, model, agenda
        self.analyst = users["analyst"]
        self.experiment: Experiment | None = None
        cfg = story.config
        self.start = story.time(cfg.canary_day, 9)
        self.decide_at = story.time(cfg.promote_day, 10)
        self.days = max(1, cfg.promote_day - cfg.canary_day)

    def plan(self) -> None:
        cfg = self.story.config
        # After v2's registration (08:00), before the canary (09:00, the same day in short stories).
        define = min(self.story.time(cfg.v2_shadow_day, 11), self.start - 15 * 60)
        self.agenda.at(define, "the analyst defines the v2 experiment", self._define)
        self.agenda.at(self.start, "the analyst starts the v2 experiment", self._start)
        for k in range(1, self.days + 1):
            when = self.start - 9 * HOUR + k * DAY + int(LOOK_AT * HOUR)
            if when < self.decide_at:
                self.agenda.at(when, f"experiment look {k}", self._look)
        self.agenda.at(self.decide_at, "the analyst records the experiment's decision", self._decide)

    # --- the scenes -------------------------------------------------------------------------------------

    def _define(self) -> None:
        share = self.story.config.canary_share
        spec = ExperimentSpec(
            model=self.model,
            name=NAME,
            hypothesis=HYPOTHESIS,
            control="v1",
            challengers=("v2",),
            allocation={"v1": 1 - share, "v2": share},
            primary_metric="business_value",
            minimum_detectable_effect=MDE_EUR,
            planned_days=self.days,
            guardrails=GUARDRAILS,
        )
        self.experiment = experiment_create(spec=spec, actor=Actor.of(self.analyst))

    def _start(self) -> None:
        if self.experiment is not None:
            self.experiment = experiment_start(experiment=self.experiment, actor=Actor.of(self.analyst))

    def _look(self) -> None:
        if self.experiment is not None:
            experiment_evaluate(experiment_id=self.experiment.pk, now=self.agenda.clock())

    def _decide(self) -> None:
        if self.experiment is None:
            return
        experiment = Experiment.objects.get(pk=self.experiment.pk)
        if experiment.status == ExperimentStatus.RUNNING:  # a story too short for any rule: the committee
            self._look()
            experiment.refresh_from_db()
        if experiment.status == ExperimentStatus.RUNNING:
            experiment_stop(
                experiment=experiment,
                reason="The committee meets before any rule fired.",
                actor=Actor.of(self.analyst),
            )
            experiment.refresh_from_db()
        self.experiment = experiment
        look = experiment.looks.order_by("-number").first()
        results = look.results if look else {}
        advice = recommendation(results, status="stopped", stop_reason=experiment.stop_reason, control="v1")
        found = results.get("summary") or "It had no labelled outcomes to compare."
        stop = StopReason(experiment.stop_reason).label.lower() if experiment.stop_reason else "stopped"
        if advice["decision"] == "promote":
            reason = f"The A/B test found v2 better ({stop}). {found} {COMMITTEE}"
        else:
            # Other seeds and lengths may end differently; the story's telemetry has v2 serve from here.
            concerns = [
                "v2 shown worse" for c in results.get("comparisons", []) if c.get("verdict") == "worse"
            ] + ["a guardrail breach" for g in results.get("guardrails", []) if g.get("status") == "breach"]
            weighed = (
                f"The committee accepts {' and '.join(dict.fromkeys(concerns))}."
                if concerns
                else "v2 is not shown worse and no guardrail was breached."
            )
            reason = f"The A/B test ended without a winner ({stop}): {found} {weighed} {COMMITTEE}"
        experiment_decide(
            experiment=experiment, decision="promote", reason=reason, actor=Actor.of(self.analyst)
        )

    # --- the report -------------------------------------------------------------------------------------

    def report(self) -> ExperimentReport:
        if self.experiment is None:
            return ExperimentReport()
        experiment = Experiment.objects.get(pk=self.experiment.pk)
        decision = experiment.decisions.order_by("-at").first()
        stopped = experiment.stopped_at
        return ExperimentReport(
            experiment_id=experiment.pk,
            looks=experiment.looks.count(),
            stop_reason=experiment.stop_reason,
            stopped_day=(int(stopped.timestamp()) - self.story.start) // DAY if stopped else None,
            decision=decision.decision if decision else "",
            decided_by=decision.actor if decision else "",
        )


def summary_lines(report: ExperimentReport) -> list[str]:
    """For the seed's summary: how the experiment ended and where to read it."""
    if report.experiment_id is None:
        return ["no experiment (the story ended before v2 was registered)"]
    stop = report.stop_reason.replace("_", " ") or "not stopped"
    day = f"on day {report.stopped_day}" if report.stopped_day is not None else ""
    return [
        f"'{NAME}': {report.looks} looks, stopped {day} ({stop}); decision: {report.decision or 'none yet'}"
        f"{' by ' + report.decided_by if report.decided_by else ''}",
        f"/experiments/{report.experiment_id}/ shows it "
        f"(GET /api/v1/experiments/{report.experiment_id}/results/)",
    ]
