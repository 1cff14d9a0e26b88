"""The weekly model-health report and the model page's segment and concept charts in a real browser."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_pages_browser import Session, assert_all_charts_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles() -> None:
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def test_the_weekly_report_draws_its_charts_and_prints_on_a4_without_controls(
    chromium: Any, site: str
) -> None:
    from drift import reports
    from drift.models import AnalysisRun

    model = seed_story(governance=False)
    latest = AnalysisRun.objects.filter(model=model, status="done").order_by("-window_start").first()
    week = reports.week_of(latest.window_start).label
    s = Session(chromium, site)
    s.sign_in(*PASSWORDS["viewer"])

    s.open("/models/credit-risk/?view=technical")
    for name in ("segments", "segment_mix", "concept"):
        assert s.page.locator(f"#fig-{name}-box .main-svg").count() > 0, name

    s.open("/models/credit-risk/")
    s.page.click("text=Weekly report")
    s.page.wait_for_load_state("networkidle")
    assert "/models/credit-risk/report/" in s.page.url
    s.open(f"/models/credit-risk/report/?week={week}")
    assert_all_charts_drawn(s, 4)
    assert s.page.locator("text=The week in figures").is_visible()
    # At 1366 px the window-by-window table fits its A4-wide column: no header cut at the edge.
    fit = s.page.eval_on_selector(
        "[aria-labelledby=table-windows] .table-scroll", "el => [el.scrollWidth, el.clientWidth]"
    )
    assert fit[0] <= fit[1] + 1, fit
    s.shot("report-screen")

    s.page.emulate_media(media="print")
    for hidden in ("header.topbar", ".report-actions", "footer.footer", ".csv"):
        assert not s.page.locator(hidden).first.is_visible(), hidden
    assert s.page.locator("text=What happened").is_visible()
    widths = s.page.eval_on_selector_all(
        "[data-figure]", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert widths and max(widths) <= 690, widths  # drawn for A4: 180 mm inside the margins
    s.shot("report-print")
    s.page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4")
    assert s.errors == [], s.errors
    s.close()
