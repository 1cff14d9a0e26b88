"""Helpers for the API and ingestion tests: a frozen clock and one way to check an error answer.

Nothing here imports Django at module level, so the pure tests in this folder still run without it.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

# The clock of every ingestion test: half an hour after the timestamps `tests.conftest.prediction` uses.
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> str:
    """An ISO timestamp `delta` before the frozen clock, e.g. ``ago(hours=49)``."""
    return iso(NOW - timedelta(**delta))


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    # The production hasher costs ~0.5 s per user created; the cast is created in most tests here.
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture
def clock() -> Iterator[datetime]:
    """Freeze `django.utils.timezone.now` at NOW (services, auto_now fields and keys all read it)."""
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


def assert_error(
    response: Any, status: int, *, field: str | None = None, says: str = "", index: int | None = None
) -> dict[str, Any]:
    """The answer has `status`, the API's error shape, and (when `field` is given) an error naming
    that field whose message contains `says` (and that names record `index`, when given)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("errors"), list), body
    if field is not None:
        matching = [
            e
            for e in body["errors"]
            if e.get("field") == field
            and says in e.get("message", "")
            and (index is None or e.get("index") == index)
        ]
        assert matching, f"no error for field {field!r} saying {says!r} (index {index}) in {body['errors']}"
    elif says:
        assert says in body["detail"], body
    return body
