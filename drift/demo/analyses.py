"""The analyses of the demo story: what beat and the workers would have done over its days.

After the telemetry is replayed, each complete day of the story is analysed in time order, as the
dispatcher would have done a few minutes after midnight: one daily window (the model's schedule) per
version that was in production or canary at some moment of that day and has data in it. Runs go
through the analysis services (`analysis_request`, then `analysis_execute` in this process), and each
finished run is handed to governance's policies, as in production, on the story's clock.

The runs are read with knowledge the dispatcher would not have had yet: the labels that arrived in the
two to five weeks after each day are already stored, so performance sections of the earlier windows
are filled in.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tqdm import tqdm

from drift.demo.story import DAY, Story
from drift.engine.windows import GRACE
from drift.models import (
    AnalysisRun,
    FeatureResult,
    ModelVersion,
    MonitoredModel,
    ProfileFragment,
    Stage,
)
from drift.models.analysis import RunTrigger
from drift.services.analyses import analysis_execute, analysis_request
from drift.services.analysis_dispatch import holdout_evaluate

LIVE_STAGES = (Stage.PRODUCTION, Stage.CANARY)
# The dispatcher's tick after a window closes: its grace, then the next five-minute beat.
DISPATCH_DELAY = GRACE + timedelta(minutes=5)


@dataclass
class DayVerdict:
    day: int
    version: str
    run_id: int
    status: str
    rows: int
    drifted: list[str] = field(default_factory=list)
    share_drifted: float | None = None


@dataclass
class AnalysesReport:
    days: list[DayVerdict] = field(default_factory=list)
    holdout_runs: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.days)

    def flagged(self) -> list[DayVerdict]:
        return [d for d in self.days if d.drifted]

    def first_flagged_day(self, after: int = 0) -> int | None:
        return next((d.day for d in self.days if d.drifted and d.day >= after), None)


def _dt(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)


def live_versions(model: MonitoredModel, start: datetime, end: datetime) -> list[ModelVersion]:
    """Versions in production or canary at some moment of [start, end) that have data in it."""
    with_data = set(
        ProfileFragment.objects.filter(version__model=model, hour__gte=start, hour__lt=end, is_drill=False)
        .values_list("version_id", flat=True)
        .distinct()
    )
    live = []
    for version in model.versions.filter(pk__in=with_data).prefetch_related("stage_history").order_by("id"):
        changes = list(version.stage_history.all())
        # The stage held at `start`, and every stage taken during the window.
        held = [c.to_stage for c in changes if c.changed_at <= start][-1:]
        held += [c.to_stage for c in changes if start < c.changed_at < end]
        if any(stage in LIVE_STAGES for stage in held):
            live.append(version)
    return live


def _verdict(run: AnalysisRun, day: int) -> DayVerdict:
    drifted = list(
        FeatureResult.objects.filter(run=run, drifted=True)
        .order_by("-effect_size")
        .values_list("feature", flat=True)
    )
    data = run.results.filter(section="data_drift").values_list("data", flat=True).first() or {}
    return DayVerdict(
        day=day,
        version=run.version.version,
        run_id=run.pk,
        status=run.status,
        rows=run.rows,
        drifted=drifted,
        share_drifted=data.get("share_drifted"),
    )


def analyse_story(
    story: Story,
    model: MonitoredModel,
    set_clock: Callable[[int], None],
    *,
    before: Callable[[int], None] | None = None,
    after_day: Callable[[int], None] | None = None,
    progress: bool = True,
) -> AnalysesReport:
    """Analyse every complete day of the story in time order. `before(t)` runs before the analyses at
    story time `t`, `after_day(day)` once a day's analyses are done: the governance story plays its
    scenes and plans new ones there."""
    report, began = AnalysesReport(), time.monotonic()
    last = (story.end - story.start) // DAY  # days before this one are complete
    delay = int(DISPATCH_DELAY.total_seconds())
    days = [d for d in range(last) if story.start + (d + 1) * DAY + delay <= story.end]
    bar = tqdm(total=len(days), unit="day", disable=not progress, file=sys.stderr, leave=False)
    for day in days:
        bar.set_description(f"analysing day {day:>3}")
        start, end = story.start + day * DAY, story.start + (day + 1) * DAY
        if before is not None:
            before(end + delay)
        set_clock(end + delay)
        for version in live_versions(model, _dt(start), _dt(end)):
            run = analysis_request(
                model=model,
                window_start=_dt(start),
                window_end=_dt(end),
                version=version,
                enqueue=False,
                trigger=RunTrigger.SCHEDULE,
            )
            analysis_execute(run_id=run.pk)
            run.refresh_from_db()
            report.days.append(_verdict(run, day))
        if after_day is not None:
            after_day(day)
        bar.update()
    bar.close()
    if days:
        # The daily rolling holdout, as beat runs it: the last 30 days of labelled predictions.
        tick = story.start + (days[-1] + 1) * DAY + delay
        set_clock(tick)
        report.holdout_runs = holdout_evaluate(now=_dt(tick))
    report.seconds = time.monotonic() - began
    return report


def summary_lines(report: AnalysesReport, story: Story, *, shift_share: float) -> list[str]:
    """What the analyses found, for the seed's summary: runs, quiet days, the first shifted day."""
    shift_day = story.config.shift_day
    quiet = [d for d in report.days if d.day < shift_day]
    after = [d for d in report.days if d.day >= shift_day]
    noisy = [d for d in quiet if d.drifted]
    shifted = [d for d in report.days if (d.share_drifted or 0) > shift_share]
    versions = sorted({d.version for d in report.days})
    days = len({d.day for d in report.days})
    holdout = f", and {len(report.holdout_runs)} rolling holdout run" if report.holdout_runs else ""
    lines = [
        f"{report.runs} daily runs over {days} days ({', '.join(versions)}; both during the canary)"
        f"{holdout}, in {report.seconds:.0f} s"
    ]
    noise = ", ".join(f"day {d.day} {'/'.join(d.drifted)}" for d in noisy[:6]) + (
        "…" if len(noisy) > 6 else ""
    )
    lines.append(
        f"before day {shift_day}: {len(noisy)} of {len(quiet)} runs flagged any feature"
        + (f" ({noise})" if noisy else "")
        + f"; {sum(1 for d in quiet if (d.share_drifted or 0) > shift_share)} passed "
        f"{shift_share:.0%} of features drifted"
    )
    if shifted:
        first = shifted[0]
        lines.append(
            f"from day {shift_day}: {sum(1 for d in after if (d.share_drifted or 0) > shift_share)} of "
            f"{len(after)} runs above {shift_share:.0%} of features drifted; first on day {first.day} "
            f"({first.share_drifted:.0%}: {', '.join(first.drifted)})"
        )
        run = AnalysisRun.objects.get(pk=first.run_id)
        sentences = run.narrative.split(". ")
        lines.append(f"day {first.day} narrative: " + ". ".join(sentences[:4]).rstrip(".") + ".")
    else:
        lines.append(f"from day {shift_day}: no run passed {shift_share:.0%} of features drifted")
    return lines
