"""Repeated failed sign-ins answer 429 with Retry-After; telemetry is never throttled."""

import time
from unittest import mock

import pytest

from tests.conftest import make_user, prediction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]
LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.DRIFTWATCH = {
        **settings.DRIFTWATCH,
        "LOGIN_FAILURE_LIMIT": LIMIT,
        "LOGIN_FAILURE_LIMIT_PER_ADDRESS": 20,
        "LOGIN_FAILURE_WINDOW": 900,
    }


@pytest.fixture
def carol(db):
    return make_user("carol", "viewer")


def sign_in(client, username, password, *, path="/login/", address="10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_sign_in_form_answers_429_after_repeated_failures(client, carol):
    for _ in range(LIMIT):
        failed = sign_in(client, "carol", "wrong")
        assert failed.status_code == 200 and b"did not match" in failed.content

    refused = sign_in(client, "carol", "carol-pass-123")  # even the right password, for now

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 900
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_the_limit_is_per_address_and_username(client, carol):
    make_user("dan", "viewer")
    for _ in range(LIMIT):
        sign_in(client, "carol", "wrong")

    assert sign_in(client, "carol", "carol-pass-123", address="10.0.0.2").status_code == 302
    assert sign_in(client, "dan", "dan-pass-123").status_code == 302
    assert sign_in(client, "CAROL ", "carol-pass-123").status_code == 429  # same name, other spelling


def test_one_address_trying_many_names_is_limited_too(client, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "LOGIN_FAILURE_LIMIT_PER_ADDRESS": 3}
    for name in ("ann", "ben", "cid"):
        assert sign_in(client, name, "guess").status_code == 200

    assert sign_in(client, "dora", "guess").status_code == 429
    assert sign_in(client, "dora", "guess", address="10.0.0.9").status_code == 200


def test_the_admin_sign_in_is_limited_the_same_way(client, carol):
    for _ in range(LIMIT):
        assert sign_in(client, "carol", "wrong", path="/admin/login/").status_code == 200

    assert sign_in(client, "carol", "wrong", path="/admin/login/").status_code == 429
    assert sign_in(client, "carol", "wrong", path="/login/").status_code == 429  # one count for both


def test_a_successful_sign_in_clears_the_count(client, carol):
    for _ in range(LIMIT - 1):
        sign_in(client, "carol", "wrong")
    assert sign_in(client, "carol", "carol-pass-123").status_code == 302
    client.logout()

    for _ in range(LIMIT - 1):
        assert sign_in(client, "carol", "wrong").status_code == 200
    assert sign_in(client, "carol", "carol-pass-123").status_code == 302


def test_the_window_ends(client, carol, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "LOGIN_FAILURE_WINDOW": 1}
    for _ in range(LIMIT):
        sign_in(client, "carol", "wrong")
    assert sign_in(client, "carol", "carol-pass-123").status_code == 429

    time.sleep(1.2)

    assert sign_in(client, "carol", "carol-pass-123").status_code == 302


def test_behind_the_tls_proxy_the_proxy_s_view_of_the_client_counts(client, carol, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    for n in range(LIMIT):
        # A client cannot dodge the limit by forging the first X-Forwarded-For entry.
        client.post(
            "/login/",
            {"username": "carol", "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7",
        )
    refused = client.post(
        "/login/",
        {"username": "carol", "password": "carol-pass-123"},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert refused.status_code == 429


def test_a_cache_that_does_not_answer_leaves_sign_in_open(client, carol):
    with mock.patch("monitoring_site.security.cache.get_many", side_effect=ConnectionError("down")):
        assert sign_in(client, "carol", "carol-pass-123").status_code == 302


def test_telemetry_is_never_throttled(api, credit_key):
    integration = api(key=credit_key)
    answers = [
        integration.post(
            "/api/v1/models/credit-risk/predictions/",
            {"version": "v1", "records": [prediction(n)]},
            format="json",
        ).status_code
        for n in range(40)
    ]
    assert answers == [200] * 40
