"""Who may call which registry and telemetry endpoint, with the API's error shape and messages, revoked
keys and bad credentials. The matrix over every URL, which README.md's "Roles and permissions" table
follows, is tests/site/test_permission_matrix.py."""

from typing import Any

import pytest
from django.utils import timezone

from drift.models import IntegrationKey
from drift.services.ingestion import predictions_ingest
from drift.services.keys import integration_key_create, integration_key_revoke
from drift.services.registry import model_create, version_create
from tests.conftest import make_user, prediction, token_client
from tests.drift.conftest import assert_error

OK = "ok"
PRINCIPALS = ("anonymous", "viewer", "frontline", "analyst", "admin", "own_key", "other_key", "no_role")

# The documented access, one row per kind of action; `OK` is the endpoint's success status.
# fmt: off
TABLE: dict[str, tuple[Any, ...]] = {
    #                  anonymous viewer frontline analyst admin own_key other_key no_role
    "read":            (401,     OK,    OK,       OK,     OK,   OK,     403,      403),
    "registry write":  (401,     403,   403,      OK,     OK,   403,    403,      403),
    "telemetry write": (401,     403,   403,      OK,     OK,   OK,     403,      403),
    "schema and docs": (OK,      OK,    OK,       OK,     OK,   OK,     OK,       OK),
}
# fmt: on

# The list of models is not about one model: every key may call it and sees only its own model
# (`test_an_integration_key_lists_only_its_own_model`).
EXCEPTIONS = {("get", "/api/v1/models/", "other_key"): OK}

M = "/api/v1/models/credit-risk/"
ENDPOINTS: list[tuple[str, str, str, Any, int]] = [
    # (kind, method, path, body, success status)
    ("read", "get", "/api/v1/models/", None, 200),
    ("read", "get", M, None, 200),
    ("read", "get", M + "versions/", None, 200),
    ("read", "get", M + "versions/v1/", None, 200),
    ("read", "get", M + "predictions/", None, 200),
    ("read", "get", M + "health/", None, 200),
    (
        "registry write",
        "post",
        "/api/v1/models/",
        {"slug": "churn", "name": "Churn", "task": "regression"},
        201,
    ),
    ("registry write", "patch", M, {"owner": "new-team"}, 200),
    (
        "registry write",
        "post",
        M + "versions/",
        {"version": "v2", "schema": {"features": [{"name": "income", "type": "numeric"}]}},
        201,
    ),
    ("registry write", "patch", M + "versions/v1/", {"stage": "canary", "reason": "test"}, 200),
    (
        "registry write",
        "post",
        M + "versions/v1/reference/",
        {"records": [{"features": {"income": 1.0}, "prediction": 1}]},
        201,
    ),
    ("telemetry write", "post", M + "predictions/", {"version": "v1", "records": [prediction(99)]}, 200),
    ("telemetry write", "post", M + "outcomes/", {"records": [{"prediction_id": "p-0", "label": 1}]}, 200),
    ("telemetry write", "post", M + "health/", {"queue_depth": 1}, 201),
    ("schema and docs", "get", "/api/schema/", None, 200),
]


@pytest.fixture
def world(credit_v1: Any, clock: Any) -> dict[str, Any]:
    """The credit model with one stored prediction, a second model, the cast, and a key for each model."""
    predictions_ingest(model=credit_v1.model, version="v1", records=[prediction(0)])
    fraud = model_create(slug="fraud", name="Fraud", task="regression")
    version_create(model=fraud, version="v1", features=[{"name": "amount", "type": "numeric"}])
    return {
        "viewer": make_user("carol", "viewer"),
        "frontline": make_user("bob", "frontline"),
        "analyst": make_user("alice", "analyst"),
        "admin": make_user("dave", "admin"),
        "no_role": make_user("erin", None),
        "own_key": integration_key_create(model=credit_v1.model, name="scoring")[1],
        "other_key": integration_key_create(model=fraud, name="fraud scoring")[1],
    }


def client_for(world: dict[str, Any], principal: str) -> Any:
    if principal == "anonymous":
        return token_client()
    if principal.endswith("_key"):
        return token_client(key=world[principal])
    return token_client(world[principal])


def call(client: Any, method: str, path: str, body: Any) -> Any:
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


CASES = [
    pytest.param(kind, method, path, body, success, principal, id=f"{method.upper()} {path} as {principal}")
    for kind, method, path, body, success in ENDPOINTS
    for principal in PRINCIPALS
]


@pytest.mark.parametrize(("kind", "method", "path", "body", "success", "principal"), CASES)
def test_each_endpoint_answers_each_principal_as_the_table_says(
    world, kind, method, path, body, success, principal
):
    expected = EXCEPTIONS.get((method, path, principal), TABLE[kind][PRINCIPALS.index(principal)])

    answer = call(client_for(world, principal), method, path, body)

    if expected == OK:
        assert answer.status_code == success, (answer.status_code, answer.content[:300])
    else:
        assert_error(answer, expected)
        if expected == 401:
            assert answer["WWW-Authenticate"].startswith("Token")


def test_an_integration_key_lists_only_its_own_model(world):
    own = token_client(key=world["own_key"]).get("/api/v1/models/").json()
    other = token_client(key=world["other_key"]).get("/api/v1/models/").json()
    person = token_client(world["viewer"]).get("/api/v1/models/").json()

    assert [m["slug"] for m in own["results"]] == ["credit-risk"]
    assert [m["slug"] for m in other["results"]] == ["fraud"]
    assert [m["slug"] for m in person["results"]] == ["credit-risk", "fraud"]


def test_another_models_key_is_told_the_key_belongs_elsewhere(world):
    answer = token_client(key=world["other_key"]).post(
        M + "predictions/", {"version": "v1", "records": [prediction(1)]}, format="json"
    )

    body = assert_error(answer, 403)
    assert "belongs to another model" in body["detail"]


def test_a_user_without_a_role_is_told_to_ask_for_one(world):
    body = assert_error(token_client(world["no_role"]).get("/api/v1/models/"), 403)

    assert "no Driftwatch role" in body["detail"]


def test_a_frontline_user_is_told_which_role_a_write_needs(world):
    body = assert_error(token_client(world["frontline"]).patch(M, {"owner": "x"}, format="json"), 403)

    assert body["detail"] == "This action needs the analyst role; you have frontline."


@pytest.mark.parametrize(("kind", "method", "path", "body", "success"), ENDPOINTS[:-1])
def test_a_revoked_key_is_refused_with_401_everywhere(world, kind, method, path, body, success):
    integration_key_revoke(key=IntegrationKey.objects.get(name="scoring"))

    answer = call(token_client(key=world["own_key"]), method, path, body)

    body = assert_error(answer, 401)
    assert "revoked" in body["detail"]


@pytest.mark.parametrize(
    "header", ["Token dwi_not-a-key", "Token 0123456789abcdef", "Token", "Bearer abc", "Token a\x00b"]
)
def test_a_bad_credential_is_refused_with_401(world, header):
    client = token_client()
    client.credentials(HTTP_AUTHORIZATION=header)

    answer = client.get("/api/v1/models/")

    # An unknown scheme counts as no credentials (401 too): the API only speaks Token.
    assert_error(answer, 401)


def test_an_inactive_user_is_refused_with_401(world):
    world["analyst"].is_active = False
    world["analyst"].save()

    assert_error(token_client(world["analyst"]).get("/api/v1/models/"), 401)


def test_a_superuser_without_a_group_counts_as_admin(world):
    boss = make_user("root", None)
    boss.is_superuser = True
    boss.save()

    answer = token_client(boss).patch(M, {"owner": "board"}, format="json")

    assert answer.status_code == 200


def test_a_used_key_records_when_it_was_last_used(world):
    token_client(key=world["own_key"]).get(M)

    assert IntegrationKey.objects.get(name="scoring").last_used_at == timezone.now()
