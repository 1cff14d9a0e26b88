"""`manage.py prune_raw_data --days N [--dry-run]`: drop raw predictions older than N days.

Profiles, label fragments, reference data and analysis results stay; outcomes of the dropped
predictions go with them (see `drift.services.retention`). Without --days it uses
DRIFTWATCH_RAW_RETENTION_DAYS. Every removal is in the audit log ("raw_data.prune").
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from drift.services.retention import raw_data_prune
from governance.services.audit import Actor


class Command(BaseCommand):
    help = "Drop raw predictions (and their outcomes) older than N days; profiles and results stay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Keep this many days of raw data (default DRIFTWATCH_RAW_RETENTION_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")

    def handle(self, *args: Any, days: int | None, dry_run: bool, **options: Any) -> None:
        days = days if days is not None else settings.DRIFTWATCH["RAW_RETENTION_DAYS"]
        if not days or days < 1:
            raise CommandError(
                "--days: give the days of raw data to keep (at least 1), "
                "or set DRIFTWATCH_RAW_RETENTION_DAYS."
            )
        report = raw_data_prune(days=days, dry_run=dry_run, actor=Actor.system("prune_raw_data"))
        verb = "would remove" if dry_run else "removed"
        others = ", ".join(f"{n} {label}" for label, n in sorted(report.dependents.items()) if n)
        self.stdout.write(
            f"{verb} {report.predictions} raw predictions before {report.cutoff:%Y-%m-%d %H:%M} UTC"
            + (
                f" ({len(report.partitions)} partitions: {', '.join(report.partitions)})"
                if report.partitions
                else ""
            )
            + (f"; with them: {others}" if others else "")
        )
