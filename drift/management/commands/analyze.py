"""Analyse a model's windows now, in this process, with a progress bar.

    manage.py analyze --model credit-risk --start 2026-11-19 --end 2026-11-20 \
        [--model-version v1] [--per daily]

Without --per, [start, end) is one window (rounded out to whole hours); with --per, it is split into the
model's aligned hourly, daily or weekly windows, each run in turn. A finished window is re-run in place.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from drift.engine.context import SECTIONS
from drift.engine.windows import LENGTHS, split
from drift.models import MonitoredModel
from drift.selectors import version_for
from drift.services.analyses import analysis_execute, analysis_request
from drift.validation import parse_timestamp
from monitoring_site.errors import ApplicationError


class Command(BaseCommand):
    help = "Run analyses of a model's windows now, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="The model's slug.")
        parser.add_argument("--start", required=True, help="ISO 8601 time (UTC if no offset), inclusive.")
        parser.add_argument("--end", required=True, help="ISO 8601 time, exclusive.")
        # --version is Django's own option (the Django version), hence --model-version.
        parser.add_argument("--model-version", help="Default: the production version.")
        parser.add_argument("--per", choices=sorted(LENGTHS), help="Split into aligned windows.")

    def handle(self, *args: Any, **opts: Any) -> None:
        model = MonitoredModel.objects.filter(slug=opts["model"]).first()
        if model is None:
            raise CommandError(f"No model with slug '{opts['model']}'.")
        start, end = self._time(opts["start"], "start"), self._time(opts["end"], "end")
        try:
            version = version_for(model, opts["model_version"]) if opts["model_version"] else None
            windows = split(opts["per"], start, end) if opts["per"] else [(start, end)]
            runs = [
                analysis_request(model=model, window_start=s, window_end=e, version=version, enqueue=False)
                for s, e in windows
            ]
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        with tqdm(total=len(runs) * len(SECTIONS), unit="section", file=self.stderr) as bar:
            for run in runs:
                bar.set_description(f"{run.window_start:%Y-%m-%d %H:%M}")
                before = bar.n
                finished = analysis_execute(run_id=run.pk, progress=lambda _name: bar.update(1)) or run
                finished.refresh_from_db()
                bar.update(before + len(SECTIONS) - bar.n)  # a run without data skips its sections
                self.stdout.write(
                    f"analysis {finished.pk} {finished.window_start:%Y-%m-%d %H:%M} → "
                    f"{finished.window_end:%Y-%m-%d %H:%M}: {finished.status}"
                )
                self.stdout.write(f"  {finished.narrative or finished.reason}")

    def _time(self, text: str, name: str) -> Any:
        when = parse_timestamp(text if "T" in text else f"{text}T00:00:00Z")
        if when is None:
            raise CommandError(f"--{name}: not an ISO 8601 time (e.g. 2026-11-19 or 2026-11-19T06:00:00Z).")
        return when
