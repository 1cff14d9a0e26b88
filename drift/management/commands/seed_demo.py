"""`manage.py seed_demo`: a consumer credit-risk model and ninety days of its life, for demos and trials.

Telemetry first, then the daily analyses of every complete day with governance's policies acting on
them and the team's people working the events they open (see drift.demo.tell)."""

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from drift.demo import analyses, experiment, governance
from drift.demo import catalogue as cat
from drift.demo.seed import SeedReport, demo_delete, ensure_users, personal_token
from drift.demo.story import DAY, Story, StoryConfig, generate
from drift.demo.tell import DemoReport, tell
from drift.models import IntegrationKey, MonitoredModel, PredictionLog


class Command(BaseCommand):
    help = (
        "Seed the demo story through the same services the API uses: model 'credit-risk' with two versions "
        "and their references, 90 days of predictions, outcomes and health samples, one user per role; "
        "then the daily analyses of those days, the policies they trip and the team's response. "
        "Skips when the demo is already seeded (--reset wipes and re-seeds it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90, help="Length of the story in days (default 90).")
        volume = parser.add_mutually_exclusive_group()
        volume.add_argument("--per-day", type=float, help="Mean applications a day before the shift (2500).")
        volume.add_argument(
            "--predictions", type=int, help="About this many predictions in all (sets --per-day)."
        )
        parser.add_argument("--seed", type=int, default=StoryConfig.seed, help="Random seed of the story.")
        parser.add_argument(
            "--reference-rows", type=int, default=StoryConfig.reference_rows, help="Rows per reference set."
        )
        parser.add_argument("--batch-size", type=int, default=5_000, help="Records per ingestion batch.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo model and its data, re-seed."
        )
        parser.add_argument(
            "--telemetry-only",
            action="store_true",
            help="Replay the telemetry only: no analyses, policies or governance story.",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar and no story summary.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (the demo users have known passwords).",
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Base URL for the examples.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG and not opts["force"]:
            raise CommandError(
                "The demo creates users with known passwords: run it with DJANGO_DEBUG=1, or pass --force."
            )
        if opts["days"] < 5:
            raise CommandError("--days must be at least 5: the story needs room for its milestones.")
        if MonitoredModel.objects.filter(slug=cat.SLUG).exists() and not opts["reset"]:
            stored = PredictionLog.objects.filter(model__slug=cat.SLUG).count()
            self.stdout.write(
                f"The demo is already seeded ('{cat.SLUG}', {stored:,} predictions); nothing added. "
                "Pass --reset to wipe and re-seed it."
            )
            key = IntegrationKey.objects.filter(model__slug=cat.SLUG).values_list("prefix", flat=True).first()
            self._credentials(ensure_users(), "", key or "", opts["base_url"])
            return
        if demo_delete():
            self.stdout.write(f"Deleted the demo model '{cat.SLUG}' and its data.")

        config = StoryConfig.scaled(opts["days"], seed=opts["seed"], reference_rows=opts["reference_rows"])
        if opts["per_day"] or opts["predictions"]:
            config = replace(config, per_day=opts["per_day"] or config.per_day_for(opts["predictions"]))
        began = time.monotonic()
        story = generate(config, end=timezone.now())
        if not opts["quiet"]:
            self.stdout.write(
                f"Story generated: {story.predictions.size:,} predictions over {config.days} days "
                f"({time.monotonic() - began:.1f} s). Replaying it through the services…"
            )
        demo = tell(
            story,
            batch_size=opts["batch_size"],
            analyses=not opts["telemetry_only"],
            progress=not opts["quiet"],
        )
        users = ensure_users(reset_passwords=opts["reset"])
        if not opts["quiet"]:
            self._summary(story, demo.telemetry, time.monotonic() - began)
            self._findings(story, demo)
        self._credentials(users, demo.telemetry.integration_key, "", opts["base_url"])

    def _findings(self, story: Story, demo: DemoReport) -> None:
        w = self.stdout.write
        if demo.analyses is not None:
            share = cat.POLICIES[0]["rules"][0]["value"]
            lines = analyses.summary_lines(demo.analyses, story, shift_share=share)
            w("  analyses     " + "\n               ".join(lines))
            w(f"               GET /api/v1/models/{cat.SLUG}/analyses/ lists them.")
        if demo.governance is not None:
            lines = governance.summary_lines(demo.governance, story)
            w("  governance   " + "\n               ".join(lines))
            target = cat.ALERT_CHANNEL["target"]
            w(f"               {demo.emails} emails to {target} (kept in memory while seeding)")
        if demo.experiment is not None:
            w("  experiment   " + "\n               ".join(experiment.summary_lines(demo.experiment)))

    def _summary(self, story: Story, report: SeedReport, seconds: float) -> None:
        w = self.stdout.write
        lo, hi = story.config.label_delay_days
        w(self.style.SUCCESS(f"Seeded '{cat.SLUG}' in {seconds:.1f} s."))
        w(
            f"  predictions  {report.accepted:,} stored of {report.predictions_sent:,} sent in "
            f"{report.batches} batches: {report.rejected} refused, {report.late} late, "
            f"{report.flagged:,} with value problems (mostly the undeclared '{cat.NEW_CHANNEL}' channel)"
        )
        w(
            f"  outcomes     {report.outcomes_accepted:,} labels, "
            f"{lo:.0f} to {hi:.0f} days after their predictions"
        )
        w(f"  health       {report.health_samples:,} hourly samples")
        w("  references   " + ", ".join(f"{v} {n:,} rows" for v, n in report.reference_rows.items()))
        w("  story")

        def line(at: int, text: str) -> None:
            day = (at - story.start) // DAY
            w(f"    {datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M}  day {day:>2}  {text}")

        line(story.start, f"v1 in production, pipeline {cat.PIPELINE_BEFORE}")
        for m in story.milestones:
            line(m.time, f"v2 → {m.stage}: {m.text}" if m.kind == "stage" else m.text)

    def _credentials(self, users: dict[str, User], key: str, key_prefix: str, base_url: str) -> None:
        w = self.stdout.write
        w("")
        w(f"Demo users (sign in at {base_url}/admin/):")
        for spec in cat.USERS:
            user = users[spec["role"]]
            extra = "superuser" if user.is_superuser else "staff" if user.is_staff else ""
            password = cat.demo_password(user.username)
            w(f"  {spec['role']:<10} username {user.username:<10} password {password:<15} {extra}".rstrip())
        token = personal_token(users["analyst"])
        w(f"Analyst API token: {token}")
        if key:
            w(f"Integration key for '{cat.SLUG}' (shown once; only its hash is stored): {key}")
        else:
            w(f"Integration key for '{cat.SLUG}': {key_prefix}… (shown when seeded; --reset makes a new one)")
        record = {
            "id": "demo-$(date +%s)",
            "timestamp": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
            "features": cat.EXAMPLE_FEATURES,
            "prediction": 0,
            "score": 0.061,
            "latency_ms": 41.0,
            "lineage": {"source": cat.SOURCE_DIRECT, "pipeline_version": cat.PIPELINE_AFTER},
        }
        # Flush left: a heredoc's closing EOF must start its line to work when pasted.
        w("Send a prediction as the integration (paste into a shell):")
        w(f"curl -sS -X POST {base_url}/api/v1/models/{cat.SLUG}/predictions/ \\")
        w(f"  -H 'Authorization: Token {key or '<integration key>'}' -H 'Content-Type: application/json' \\")
        w("  -d @- <<EOF")
        w(json.dumps({"version": "v2", "records": [record]}))
        w("EOF")
        w("Read the model as the analyst:")
        w(f"curl -sS -H 'Authorization: Token {token}' {base_url}/api/v1/models/{cat.SLUG}/")
