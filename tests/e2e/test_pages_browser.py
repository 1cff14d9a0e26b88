"""The pages in a real browser: every chart draws, no console errors, each role sees what it may use."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles() -> None:
    # A transactional test's flush also empties the role groups the migrations created: put them back.
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Session:
    """One signed-in browser context that records console errors and uncaught exceptions."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.base = base
        self.context = chromium.new_context(
            viewport={"width": 1366, "height": 900}, timezone_id="Europe/Paris"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def sign_in(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("form.stack button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def open(self, path: str) -> Any:
        response = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")
        return response

    def charts_drawn(self) -> tuple[int, int]:
        """(chart containers on the page, containers holding Plotly's svg)."""
        drawn = self.page.eval_on_selector_all(
            "[data-figure]", "els => els.map(e => e.querySelector('.main-svg') !== null)"
        )
        return len(drawn), sum(drawn)

    def shot(self, name: str, *, full: bool = True) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def close(self) -> None:
        self.context.close()


def assert_all_charts_drawn(s: Session, at_least: int) -> None:
    total, drawn = s.charts_drawn()
    assert total >= at_least and drawn == total, (s.page.url, total, drawn)


def test_every_role_sees_every_chart_and_no_console_errors(chromium: Any, site: str) -> None:
    seed_story()
    for role in ("viewer", "frontline", "analyst", "admin"):
        s = Session(chromium, site)
        s.sign_in(*PASSWORDS[role])
        assert s.page.url == f"{s.base}/", s.page.url

        s.open("/")
        assert_all_charts_drawn(s, 1)
        nav = s.page.inner_text("nav[aria-label=Main]")
        assert ("Admin" in nav) == (role in ("analyst", "admin"))  # the demo analyst is staff
        assert ("API docs" in nav) == (role in ("analyst", "admin"))
        s.shot(f"portfolio-{role}")

        s.open("/models/credit-risk/")
        assert_all_charts_drawn(s, 2)
        assert s.page.locator("text=What happens next").count() == 1
        actions = s.page.locator("button.action").count()
        assert (actions > 0) == (role in ("analyst", "admin")), (role, actions)
        post_forms = s.page.locator("main form[method=post]:not(.flag-form)").count()
        if role in ("viewer", "frontline"):
            assert post_forms == 0  # no action of any kind, only the sign-out form in the header
        # Flagging a time range or a segment is the one thing frontline users do here.
        assert (s.page.locator("main form.flag-form").count() > 0) == (role != "viewer")
        s.shot(f"model-executive-{role}")

        s.open("/models/credit-risk/?view=technical")
        assert_all_charts_drawn(s, 11)
        s.shot(f"model-technical-{role}")

        s.open("/models/credit-risk/features/channel/")
        assert_all_charts_drawn(s, 3)
        s.shot(f"feature-channel-{role}")

        assert s.errors == [], (role, s.errors)
        s.close()


def test_a_heatmap_cell_opens_its_feature_and_the_report_prints_without_controls(
    chromium: Any, site: str
) -> None:
    seed_story(governance=False)
    s = Session(chromium, site)
    s.sign_in(*PASSWORDS["analyst"])
    s.open("/models/credit-risk/?view=technical")
    cells = s.page.locator("#fig-heatmap-box .nsewdrag").first
    box = cells.bounding_box()
    assert box is not None
    with s.page.expect_navigation():
        cells.click(position={"x": box["width"] - 5, "y": 5})  # the newest window, top feature
    assert "/models/credit-risk/features/" in s.page.url and "run=" in s.page.url
    assert_all_charts_drawn(s, 3)

    s.open("/models/credit-risk/")
    # However the header facts wrap, no line starts with a separator: the item that starts a line has
    # its "·" (drawn in a gutter left of the item's text) clipped by the line's box.
    s.page.set_viewport_size({"width": 560, "height": 900})
    starts = s.page.eval_on_selector(
        ".page-head .facts-line",
        """line => {
          const left = line.getBoundingClientRect().left;
          const items = [...line.querySelectorAll(".meta > *")];
          const tops = new Set(items.map(i => Math.round(i.getBoundingClientRect().top)));
          return [tops.size, items.map(i => {
            const gutter = parseFloat(getComputedStyle(i).paddingLeft);
            return i.getBoundingClientRect().left + gutter - left;
          })];
        }""",
    )
    lines, text_starts = starts
    assert lines > 1, starts  # it did wrap at this width
    assert all(x >= -0.5 for x in text_starts), starts  # no item's text hides under the clip
    # Items that start a line sit flush left (an item may also wrap inside itself, so not one per line).
    assert 2 <= sum(1 for x in text_starts if abs(x) < 0.5) <= lines, starts
    s.page.set_viewport_size({"width": 1366, "height": 900})
    s.page.emulate_media(media="print")
    assert not s.page.locator("header.topbar").is_visible()
    assert not s.page.locator("#window-picker").is_visible()
    assert s.page.locator("text=Why it matters").is_visible()
    s.shot("model-executive-print")
    assert s.errors == [], s.errors
    s.close()


def test_signed_out_visitors_get_the_login_page_and_wrong_passwords_a_message(
    chromium: Any, site: str
) -> None:
    from tests.conftest import make_user

    make_user("carol", "viewer")
    s = Session(chromium, site)
    s.open("/models/credit-risk/")
    assert "/login/?next=/models/credit-risk/" in s.page.url
    s.sign_in("carol", "wrong")
    assert s.page.locator("[role=alert]").inner_text().startswith("Your username and password did not match")
    s.sign_in("carol", "carol-pass-123")
    assert s.page.locator("text=No models yet").is_visible()
    s.shot("portfolio-empty")
    s.page.click("header form button")  # sign out
    s.page.wait_for_load_state("networkidle")
    assert s.page.url.endswith("/login/")
    assert s.errors == [], s.errors
    s.close()
