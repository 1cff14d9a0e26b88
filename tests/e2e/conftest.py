"""Browser tests: Playwright driving Debian's headless Chromium against pytest-django's live server.

Without chromium they skip, unless the environment variable CI is set: then they fail, because CI must
run them (.ci/run installs chromium).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests must run.", pytrace=False)
    pytest.skip(f"{reason} (apt-get install chromium chromium-driver); set CI=1 to make this a failure.")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = shutil.which("chromium")
    if path is None:
        _unavailable("chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses database work
    # while it sees one. The tests themselves are synchronous, so allow it, only while the browser lives.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def site(django_db_setup: Any) -> Iterator[str]:
    """A live server started under the settings a plain-HTTP test site needs (no HTTPS redirect or
    secure-only cookies; static files by their own names, production serves collectstatic's hashed
    names), on 127.0.0.1 (Chromium upgrades http://localhost to HTTPS). Its URL.

    pytest-django's `live_server` starts once per session, before function-level settings apply, so its
    middleware would keep the production HTTPS redirect; this one starts after the override."""
    from django.conf import settings
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    override = override_settings(
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    override.enable()
    server = LiveServer("127.0.0.1:0")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield server.url
    finally:
        server.stop()
        override.disable()
