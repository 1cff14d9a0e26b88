"""The demo's A/B test: after a small seed, v2 was tested against v1 over the canary, stopped by a
rule, and the demo analyst's recorded decision promoted v2 through governance."""

from collections.abc import Iterator
from typing import Any

import pytest

from drift.models import Experiment, MonitoredModel, Stage
from governance.models import AuditEntry
from tests.drift.pages_support import as_role, plain_static_files, seeded

RULES = {"success", "futility", "guardrail", "sample_ratio_mismatch", "planned_duration"}


@pytest.fixture(scope="module")
def story(django_db_setup: Any, django_db_blocker: Any) -> Iterator[MonitoredModel]:
    yield from seeded(django_db_blocker, governance=False)


@pytest.mark.django_db
def test_the_demo_tests_v2_against_v1_and_the_analyst_promotes_it_on_the_record(story, settings):
    experiment = Experiment.objects.get(model=story)
    arms = {a.version.version: a for a in experiment.arms.select_related("version")}
    assert arms["v1"].is_control and not arms["v2"].is_control
    assert experiment.status == "concluded" and experiment.stop_reason in RULES  # stopped by a rule
    assert experiment.looks.filter(stop_reason=experiment.stop_reason).count() == 1
    # Routed as the story's canary, back to v1 at the stop, then all to v2 once promoted.
    assert [h["shares"] for h in experiment.allocation_history] == [
        {"v1": 0.9, "v2": 0.1},
        {"v1": 1.0, "v2": 0.0},
        {"v1": 0.0, "v2": 1.0},
    ]

    decision = experiment.decisions.get()
    assert (decision.decision, decision.decided_by.username) == ("promote", "analyst")
    assert decision.evidence["results"]["srm"] and decision.evidence["criteria"]["planned_days"] >= 1
    v1, v2 = story.versions.order_by("version")
    assert (v1.stage, v2.stage) == (Stage.ARCHIVED, Stage.PRODUCTION)
    promoted = AuditEntry.objects.get(action="version.promote", object_id=str(v2.pk))
    assert promoted.user.username == "analyst" and promoted.at == decision.at
    assert promoted.reason.startswith(f"experiment {experiment.pk}: The A/B test")
    trail = AuditEntry.objects.filter(object_type="experiment", object_id=str(experiment.pk))
    actors = dict(trail.values_list("action", "actor"))
    assert (
        actors["experiment.stop"] == "system:experiments_evaluate"
        and actors["experiment.decision"] == "analyst"
    )
    assert trail.get(action="experiment.start").at < experiment.looks.first().at < decision.at

    plain_static_files(settings)
    text = as_role("viewer").get(f"/experiments/{experiment.pk}/").content.decode()
    assert "Where it stands" in text and "Promote the challenger" in text  # the decision history
