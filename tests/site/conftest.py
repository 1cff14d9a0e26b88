"""Fixtures of the site-wide tests (headers, sign-in limits, metrics, logs, outages)."""

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    # Sign-in failure counts and the metrics answer live in the cache, which outlives a test.
    if request.config.pluginmanager.hasplugin("django"):
        from django.core.cache import cache

        cache.clear()
        yield
        cache.clear()
    else:
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture
def plain_static_storage(settings: Any) -> None:
    # Production serves hashed names from the manifest `collectstatic` writes; the tests do not run it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
