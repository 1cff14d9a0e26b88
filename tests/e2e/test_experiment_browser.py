"""The experiment pages in a real browser: the demo's A/B test draws its charts with no console errors,
a viewer has no decision form and a forged POST is refused, and an analyst stops an experiment and
records a decision, which the page then shows."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.test_pages_browser import Session, assert_all_charts_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles() -> None:
    # A transactional test's flush also empties the role groups the migrations created: put them back.
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def forged_post(s: Session, path: str, form: dict[str, str]) -> Any:
    """A POST the page offers no form for, sent with the session's own cookie and CSRF token, so only
    the role check can refuse it."""
    token = next(c["value"] for c in s.context.cookies() if c["name"] == "csrftoken")
    return s.context.request.post(
        f"{s.base}{path}", form=form, headers={"X-CSRFToken": token, "Referer": f"{s.base}/"}
    )


def test_the_demo_experiment_draws_its_charts_and_only_an_analyst_may_decide(
    chromium: Any, site: str
) -> None:
    from drift.models import Experiment

    seed_story(governance=False)
    experiment = Experiment.objects.get(model__slug="credit-risk")
    path = f"/experiments/{experiment.pk}/"
    for role in ("viewer", "analyst"):
        s = Session(chromium, site)
        s.sign_in(*PASSWORDS[role])
        s.page.click("nav[aria-label=Main] >> text=Experiments")
        s.page.wait_for_load_state("networkidle")
        assert s.page.url == f"{s.base}/experiments/"
        assert s.page.locator(f"a[href='{path}']").count() == 1
        s.shot(f"experiments-list-{role}")

        s.open(path)
        assert_all_charts_drawn(s, 3)
        assert s.page.locator("#fig-lift-box .main-svg").count() >= 1  # the lift with its band
        assert s.page.locator("text=Where it stands").is_visible()
        assert s.page.locator("text=Promote the challenger").count() >= 1  # the demo's decision, on record
        assert s.page.locator("main form[method=post]").count() == 0  # concluded: nothing to decide
        s.shot(f"experiment-demo-{role}")
        assert s.errors == [], (role, s.errors)
        s.close()


def test_a_viewer_cannot_decide_and_an_analyst_stops_and_records_a_decision(chromium: Any, site: str) -> None:
    from django.contrib.auth.models import User

    from drift.models import Experiment
    from drift.services.experiment_definition import ExperimentSpec
    from drift.services.experiments import experiment_create, experiment_start
    from governance.services.audit import Actor

    model = seed_story(governance=False)
    actor = Actor.of(User.objects.get(username=PASSWORDS["analyst"][0]))
    # The champion is v2 now; would the archived v1 do better on accuracy? (It is only a drill of the page.)
    spec = ExperimentSpec(
        model=model,
        name="v1 back against v2",
        control="v2",
        challengers=("v1",),
        primary_metric="accuracy",
        minimum_detectable_effect=0.02,
    )
    experiment = experiment_start(experiment=experiment_create(spec=spec, actor=actor), actor=actor)
    path = f"/experiments/{experiment.pk}/"

    viewer = Session(chromium, site)
    viewer.sign_in(*PASSWORDS["viewer"])
    viewer.open(path)
    assert_all_charts_drawn(viewer, 3)  # no look yet: each figure says why it is empty
    assert viewer.page.locator("main form[method=post]").count() == 0
    for action, form in (("stop", {"reason": "forged"}), ("decision", {"decision": "revert", "reason": "x"})):
        response = forged_post(viewer, f"{path}{action}/", form)
        assert response.status == 403 and "needs <strong>analyst</strong>" in response.text()
    viewer.shot("experiment-running-viewer")
    assert viewer.errors == [], viewer.errors
    viewer.close()
    assert Experiment.objects.get(pk=experiment.pk).status == "running"

    s = Session(chromium, site)
    s.sign_in(*PASSWORDS["analyst"])
    s.open(path)
    s.page.fill("#id_stop_reason", "Freeze for the quarter-end close")
    with s.page.expect_navigation():
        s.page.click("button:has-text('Stop the experiment')")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("text=Experiment stopped").is_visible()
    s.page.check("input[name=decision][value=revert]")
    s.page.fill("#id_reason", "Nothing to gain from going back to v1")
    s.shot("experiment-decision-form-analyst")
    with s.page.expect_navigation():
        s.page.click("button:has-text('Record the decision')")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("text=Decision recorded: revert to the control.").is_visible()
    history = s.page.locator("#table-decisions").locator("xpath=ancestor::section[1]")
    assert "Nothing to gain from going back to v1" in history.inner_text()
    assert s.page.locator("main form[method=post]").count() == 0
    assert_all_charts_drawn(s, 3)
    s.shot("experiment-decided-analyst")
    assert s.errors == [], s.errors
    s.close()
    assert Experiment.objects.get(pk=experiment.pk).status == "concluded"
