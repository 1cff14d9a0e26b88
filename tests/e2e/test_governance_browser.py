"""The event and incident pages in a real browser: an analyst acknowledges an open event and sees its
new status; a viewer reads the same page with no action on it, and a forged POST is refused."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.test_pages_browser import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles() -> None:
    # A transactional test's flush also empties the role groups the migrations created: put them back.
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def _story_event() -> Any:
    """The open critical event `seed_story` adds (the demo's own policies may add others)."""
    from governance.models import DriftEvent

    return DriftEvent.objects.get(
        model__slug="credit-risk", policy__isnull=True, title="Share of changed inputs above 30%"
    )


def test_an_analyst_acknowledges_an_event_and_a_viewer_can_only_read_it(chromium: Any, site: str) -> None:
    seed_story()
    event = _story_event()
    assert event.status == "detected" and event.severity == "critical"

    analyst = Session(chromium, site)
    analyst.sign_in(*PASSWORDS["analyst"])
    analyst.open("/events/?model=credit-risk&open=1")
    assert analyst.page.locator("nav[aria-label=Main] >> text=Events").count() == 1
    analyst.shot("events-list-analyst")
    with analyst.page.expect_navigation():
        analyst.page.click(f"a[href='/events/{event.pk}/']")
    assert analyst.page.inner_text("#event-status") == "Detected"
    assert analyst.page.locator("#what-h").is_visible()
    analyst.page.fill("form[aria-label=Acknowledge] textarea[name=note]", "Looking at the partner channel")
    with analyst.page.expect_navigation():
        analyst.page.click("#acknowledge")
    analyst.page.wait_for_load_state("networkidle")
    assert analyst.page.url == f"{site}/events/{event.pk}/"
    assert analyst.page.inner_text("#event-status") == "Acknowledged"
    assert analyst.page.locator(f"text=Event #{event.pk} acknowledged.").is_visible()
    assert analyst.page.locator("text=Looking at the partner channel").count() >= 1  # the audit trail
    assert analyst.page.locator("#acknowledge").count() == 0
    analyst.shot("event-acknowledged-analyst")
    assert analyst.errors == [], analyst.errors
    analyst.close()

    viewer = Session(chromium, site)
    viewer.sign_in(*PASSWORDS["viewer"])
    viewer.open(f"/events/{event.pk}/")
    assert viewer.page.inner_text("#event-status") == "Acknowledged"
    assert viewer.page.locator("main form[method=post]").count() == 0
    assert viewer.page.locator("main button").count() == 0
    viewer.shot("event-viewer")
    incident = event.incidents.get()
    viewer.open(f"/incidents/{incident.pk}/")
    assert viewer.page.locator("main form[method=post]").count() == 0
    viewer.shot("incident-viewer")

    # A forged form, with the viewer's own valid CSRF token: refused for the role, not for CSRF.
    token = next(c["value"] for c in viewer.context.cookies() if c["name"] == "csrftoken")
    forged = viewer.page.request.post(
        f"{site}/events/{event.pk}/transition/",
        form={"to": "investigating", "note": "forged"},
        headers={"X-CSRFToken": token},
    )
    assert forged.status == 403 and "You cannot open this page" in forged.text()
    event.refresh_from_db()
    assert event.status == "acknowledged"
    assert viewer.errors == [], viewer.errors
    viewer.close()
