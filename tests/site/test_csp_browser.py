"""The Content-Security-Policy in a real browser: charts and the API docs work under it, offline, with no
violation; a script injected into a page does not run."""

from typing import Any

import pytest

from tests.drift.pages_support import PASSWORDS, seed_story
from tests.e2e.conftest import chromium, site  # noqa: F401  (the browser and the live server)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script: collects the browser's CSP violation reports.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture(autouse=True)
def _roles() -> None:
    # A transactional test's flush also empties the role groups the migrations created: put them back.
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def test_charts_and_the_api_docs_work_under_the_policy_and_injected_scripts_do_not(
    chromium: Any,  # noqa: F811
    site: str,  # noqa: F811
) -> None:
    seed_story(days=5, per_day=60, governance=False)
    context = chromium.new_context()
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(f"{site}/login/")
        username, password = PASSWORDS["analyst"]
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state("networkidle")

        page.goto(f"{site}/models/credit-risk/?view=technical")
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-figure] .main-svg").count() >= 5
        # Plotly's own rules (hover labels, mode bar) made it into its <style> element through the CSSOM.
        rules = page.evaluate("document.getElementById('plotly.js-style-global').sheet.cssRules.length")
        assert rules > 10
        assert page.evaluate("window.__violations") == []

        injected = page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.__ran = true'; document.body.appendChild(s);
                       return window.__ran === true; }"""
        )
        assert injected is False
        page.wait_for_timeout(200)  # the report is an event, dispatched after the refusal
        assert [v.split()[0] for v in page.evaluate("window.__violations")] == ["script-src-elem"]
        errors.clear()  # the browser logged that refusal as a console error: expected

        page.goto(f"{site}/api/docs/")
        page.wait_for_selector(".opblock", timeout=15_000)
        assert page.locator(".opblock").count() >= 20  # Swagger UI read the schema and drew operations
        assert page.evaluate("window.__violations") == []
    finally:
        context.close()

    assert errors == []
    assert all(url.startswith(site) or url.startswith("data:") for url in requested), [
        url for url in requested if not url.startswith(site)
    ]
