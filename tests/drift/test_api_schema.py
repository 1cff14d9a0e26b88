"""The OpenAPI document and the interactive docs page."""

import re

import pytest
from drf_spectacular.validation import validate_schema

from tests.conftest import token_client


@pytest.fixture
def schema(db):
    answer = token_client().get("/api/schema/?format=json")
    assert answer.status_code == 200, answer.content[:300]
    return answer.json()


@pytest.fixture
def plain_static_storage(settings):
    # Production serves hashed names from the manifest `collectstatic` writes; the tests do not run it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_the_schema_is_a_valid_openapi_3_document(schema):
    validate_schema(schema)  # raises on an invalid document

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Driftwatch API"


def test_the_schema_describes_every_v1_endpoint_and_method(schema):
    paths = {
        path: set(ops) & {"get", "post", "patch", "put", "delete"} for path, ops in schema["paths"].items()
    }

    assert paths["/api/v1/models/"] == {"get", "post"}
    assert paths["/api/v1/models/{slug}/"] == {"get", "patch"}
    assert paths["/api/v1/models/{slug}/versions/"] == {"get", "post"}
    assert paths["/api/v1/models/{slug}/versions/{version}/"] == {"get", "patch"}
    assert paths["/api/v1/models/{slug}/versions/{version}/reference/"] == {"post"}
    assert paths["/api/v1/models/{slug}/predictions/"] == {"get", "post"}
    assert paths["/api/v1/models/{slug}/outcomes/"] == {"post"}
    assert paths["/api/v1/models/{slug}/health/"] == {"get", "post"}


def test_the_schema_documents_the_prediction_batch_and_the_token_header(schema):
    post = schema["paths"]["/api/v1/models/{slug}/predictions/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    record = schema["components"]["schemas"][body]["properties"]["records"]["items"]["$ref"].rsplit("/", 1)[
        -1
    ]

    assert {"id", "timestamp", "features", "prediction"} <= set(
        schema["components"]["schemas"][record]["required"]
    )
    assert "partial" in {p["name"] for p in post["parameters"]}
    assert any(
        s.get("scheme") == "Token" or s.get("name") == "Authorization"
        for s in schema["components"]["securitySchemes"].values()
    )


def test_the_reference_upload_documents_json_and_csv(schema):
    content = schema["paths"]["/api/v1/models/{slug}/versions/{version}/reference/"]["post"]["requestBody"][
        "content"
    ]

    assert set(content) == {"application/json", "multipart/form-data"}


def test_the_docs_page_loads_and_uses_only_local_assets(db, plain_static_storage):
    answer = token_client().get("/api/docs/")

    assert answer.status_code == 200
    html = answer.content.decode()
    assert "swagger-ui" in html and "/api/docs/?script=" in html
    assert re.findall(r"https?://[^\s\"'<>]+", html) == []
    assert re.search(r"(src|href)=\"/static/drf_spectacular_sidecar/", html)
    # The init script is a file of its own (no inline script under the Content-Security-Policy).
    script = token_client().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/models/",
        "/api/v1/models/{slug}/versions/",
        "/api/v1/models/{slug}/predictions/",
        "/api/v1/models/{slug}/health/",
    ],
)
def test_list_endpoints_are_documented_as_pages(schema, path):
    get = schema["paths"][path]["get"]
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    assert set(schema["components"]["schemas"][ref]["properties"]) == {"count", "next", "previous", "results"}
    assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}


def test_a_health_sample_is_documented_with_every_measurement_optional(schema):
    body = schema["paths"]["/api/v1/models/{slug}/health/"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    component = schema["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]

    assert "received_at" not in component["properties"]
    assert not component.get("required")
