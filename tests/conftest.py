"""Fixtures shared by every test: a small fixed cast and a registered model.

alice is the analyst, bob the frontline user, carol the executive (viewer), dave the admin.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

# Django is imported inside the fixtures, so the pure tests (statistics, profiles) also run with
# `-p no:django`, without settings or a database.
if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    from drift.models import ModelVersion, MonitoredModel


@pytest.fixture(autouse=True)
def _plain_http(request: pytest.FixtureRequest) -> None:
    # Production settings redirect HTTP to HTTPS; tests talk plain HTTP to the test server.
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.SECURE_SSL_REDIRECT = False
        # Production storage needs `collectstatic`'s manifest; tests render pages without running it.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }


@pytest.fixture(autouse=True)
def _clean_cache(request: pytest.FixtureRequest) -> None:
    # Sign-in failure counts, rate limits and cached answers live in the cache, which outlives a test.
    if request.config.pluginmanager.hasplugin("django"):
        import contextlib

        from django.core.cache import cache

        with contextlib.suppress(Exception):  # a cache server a fault test stopped has nothing to clear
            cache.clear()


def make_user(username: str, role: str | None) -> "User":
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, password=f"{username}-pass-123")
    if role:
        # get_or_create: a transactional test's flush removes the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def eager_celery(settings: Any) -> Any:
    """Tasks run in-process even when the suite runs against a real broker (CELERY_BROKER_URL)."""
    from monitoring_site.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def alice(db: Any) -> "User":
    return make_user("alice", "analyst")


@pytest.fixture
def bob(db: Any) -> "User":
    return make_user("bob", "frontline")


@pytest.fixture
def carol(db: Any) -> "User":
    return make_user("carol", "viewer")


@pytest.fixture
def dave(db: Any) -> "User":
    return make_user("dave", "admin")


def token_client(user: "User | None" = None, key: str | None = None) -> "APIClient":
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        key = Token.objects.get_or_create(user=user)[0].key
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api() -> Callable[..., "APIClient"]:
    """`api(alice)` → a client authenticated with alice's personal token; `api(key="dwi_…")` for a key."""
    return token_client


FEATURES: list[dict[str, Any]] = [
    {"name": "income", "type": "numeric", "min": 0, "max": 1_000_000, "nullable": False},
    {"name": "age", "type": "numeric", "min": 18, "max": 120},
    {"name": "region", "type": "categorical", "categories": ["north", "south", "east", "west"]},
    {"name": "has_default", "type": "boolean"},
    {"name": "gender", "type": "categorical", "role": "sensitive", "categories": ["f", "m", "x"]},
    {"name": "customer_ref", "type": "categorical", "pii": "hash"},
    {"name": "email", "type": "categorical", "pii": "drop"},
]


@pytest.fixture
def credit_model(db: Any) -> "MonitoredModel":
    from drift.services.registry import model_create

    return model_create(
        slug="credit-risk",
        name="Credit risk",
        task="binary_classification",
        owner="risk-team",
        positive_label="1",
        business={
            "kpi": "Approve good loans",
            "currency": "EUR",
            "value": {"tp": 0, "fp": -500, "tn": 120, "fn": -80},
        },
    )


@pytest.fixture
def credit_v1(credit_model: "MonitoredModel") -> "ModelVersion":
    from drift.services.registry import version_create

    return version_create(model=credit_model, version="v1", features=FEATURES, stage="production")


@pytest.fixture
def credit_key(credit_v1: "ModelVersion") -> str:
    from drift.services.keys import integration_key_create

    return integration_key_create(model=credit_v1.model, name="scoring service")[1]


def prediction(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid prediction record for the credit model."""
    record: dict[str, Any] = {
        "id": f"p-{i}",
        "timestamp": "2026-11-20T12:00:00Z",
        "features": {
            "income": 40_000 + i,
            "age": 30 + i % 50,
            "region": "north",
            "has_default": False,
            "gender": "f",
            "customer_ref": f"CUST-{i:06d}",
            "email": f"person{i}@example.com",
        },
        "prediction": 1,
        "score": 0.8,
        "latency_ms": 12.5,
    }
    record.update(overrides)
    return record
