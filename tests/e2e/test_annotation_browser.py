"""Flags in a real browser: a frontline user flags a window by clicking a chart, the flag shows on the
charts as a star, and a note written as markup stays text on the chart hover and the triage page."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.test_pages_browser import Session, assert_all_charts_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> scores jumped'
CHART = "fig-volume-box"  # bars: a click anywhere on one picks its window


@pytest.fixture(autouse=True)
def _roles() -> None:
    # A transactional test's flush also empties the role groups the migrations created: put them back.
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def click_last_window(s: Session, box_id: str) -> None:
    """Click the middle of the newest bar of a chart, where Plotly reports a click on that window."""
    where = s.page.evaluate(
        """id => {
          const gd = document.getElementById(id), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const bars = gd._fullData[0], i = bars.x.length - 1;
          return {x: xa.d2p(bars.x[i]), y: ya.d2p(bars.y[i] / 2)};
        }""",
        box_id,
    )
    # The drag layer covers the plot area, so positions on it are the axes' pixels; the click scrolls.
    s.page.locator(f"#{box_id} .nsewdrag").first.click(position=where)


def flags_on(s: Session, box_id: str) -> dict[str, Any]:
    return s.page.evaluate(
        """id => {
          const gd = document.getElementById(id);
          const stars = gd.data.filter(t => t.name === "Flags");
          const bands = (gd.layout.shapes || []).filter(s => s.type === "rect");
          return {stars: stars.length ? stars[0].x.length : 0, text: stars.length ? stars[0].text : [],
                  bands: bands.map(b => [String(b.x0), String(b.x1)]),
                  drawn: gd.querySelectorAll(".scatterlayer .point").length};
        }""",
        box_id,
    )


def hover_star(s: Session, box_id: str, containing: str) -> str:
    """Move the mouse onto the chart's flag star whose hover text holds `containing` (the demo story has
    flags of its own); the hover label's text as a person reads it."""
    where = s.page.evaluate(
        """([id, containing]) => {
          const gd = document.getElementById(id), full = gd._fullLayout;
          const stars = gd._fullData.find(t => t.name === "Flags");
          const i = stars.text.findIndex(t => t.includes(containing));
          return {x: full.xaxis.d2p(stars.x[i]), y: full.yaxis9.d2p(stars.y[i])};
        }""",
        [box_id, containing],
    )
    s.page.locator(f"#{box_id} .nsewdrag").first.hover(position=where)
    s.page.wait_for_selector(".hoverlayer .hovertext", timeout=5_000)
    return s.page.locator(".hoverlayer .hovertext").first.text_content() or ""


def test_a_frontline_flag_from_a_chart_shows_as_a_marker_and_its_note_stays_text(
    chromium: Any, site: str
) -> None:
    seed_story(governance=False)
    s = Session(chromium, site)
    s.sign_in(*PASSWORDS["frontline"])
    assert "Triage" in s.page.inner_text("nav[aria-label=Main]")

    s.open("/models/credit-risk/?view=technical")
    assert_all_charts_drawn(s, 11)
    # The demo's underwriter flagged a segment and a prediction: stars already, but no time-range bands.
    before = {box: flags_on(s, box)["stars"] for box in (CHART, "fig-performance-box", "fig-latency-box")}
    assert not flags_on(s, CHART)["bands"]
    form = s.page.locator("#flag-range-form")
    prefilled = form.locator("input[name=start]").input_value()

    click_last_window(s, CHART)

    s.page.wait_for_selector("[data-flag-hint]:not(:empty)", timeout=5_000)
    start = form.locator("input[name=start]").input_value()
    end = form.locator("input[name=end]").input_value()
    assert start and end > start, (start, end)
    assert start == prefilled  # the newest bar is the chosen (latest) window
    form.locator("select[name=category]").select_option("data_problem")
    form.locator("textarea[name=note]").fill(HOSTILE)
    s.shot("flag-range-form-frontline", full=False)
    with s.page.expect_navigation():
        form.locator("button[type=submit]").click()
    s.page.wait_for_load_state("networkidle")

    assert "sent for review" in s.page.inner_text(".messages")
    assert "view=technical" in s.page.url
    drawn = flags_on(s, CHART)
    assert drawn["stars"] == before[CHART] + 1 and drawn["bands"], drawn
    assert drawn["bands"][0][0].startswith(start.replace("T", " ")) or drawn["bands"][0][0].startswith(start)
    assert any("&lt;script&gt;" in text for text in drawn["text"])  # escaped in the figure
    for other in ("fig-performance-box", "fig-latency-box"):
        assert flags_on(s, other)["stars"] == before[other] + 1, other
    hover = hover_star(s, CHART, "scores jumped")
    assert "<script>window.__pwned=1</script>" in hover  # shown as the characters typed
    assert s.page.locator(".hoverlayer img").count() == 0
    s.shot("flag-marker-hover-frontline", full=False)
    assert s.page.evaluate("typeof window.__pwned") == "undefined"

    s.open("/triage/")
    note = s.page.locator("td.note").first.inner_text()
    assert note.startswith("<script>window.__pwned=1</script>"), note
    assert s.page.locator("main td.note img, main td.note script").count() == 0
    assert s.page.locator("main form[method=post]").count() == 0  # read-only for frontline users
    s.shot("triage-frontline")
    assert s.page.evaluate("typeof window.__pwned") == "undefined"
    assert s.errors == [], s.errors
    s.close()

    a = Session(chromium, site)
    a.sign_in(*PASSWORDS["analyst"])
    a.open("/triage/")
    assert a.page.locator("td.note").first.inner_text().startswith("<script>")
    a.page.locator("details.triage-forms summary").first.click()
    a.page.locator("textarea[name=reason]").first.fill("Known partner promotion; expected")
    a.shot("triage-analyst")
    with a.page.expect_navigation():
        a.page.locator("form[aria-label^='Dismiss'] button[type=submit]").first.click()
    assert "dismissed" in a.page.inner_text(".messages")
    # Gone from the open queue; the demo underwriter's own open flags wait there still.
    assert a.page.locator("td.note", has_text="scores jumped").count() == 0
    a.shot("triage-analyst-dismissed")
    assert a.page.evaluate("typeof window.__pwned") == "undefined"
    assert a.errors == [], a.errors
    a.close()
