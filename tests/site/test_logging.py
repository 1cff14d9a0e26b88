"""One structured log line per request, JSON when asked for, and never a request body."""

import importlib
import io
import json
import logging

import pytest

from monitoring_site.logging import JsonFormatter, RequestIdFilter
from tests.conftest import prediction


@pytest.fixture
def json_lines():
    """Every log record during the test, formatted as the production JSON handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(before)


@pytest.mark.django_db
def test_each_request_is_logged_once_with_its_id_user_status_and_duration(api, alice, credit_v1, json_lines):
    answer = api(alice).get("/api/v1/models/credit-risk/")

    (line,) = [entry for entry in json_lines() if entry["logger"] == "driftwatch.request"]
    assert answer.status_code == 200
    assert line["request_id"] == answer["X-Request-ID"] and len(line["request_id"]) == 32
    assert (line["method"], line["path"], line["status"], line["user"]) == (
        "GET",
        "/api/v1/models/credit-risk/",
        200,
        "alice",
    )
    assert line["level"] == "INFO" and 0 <= line["duration_ms"] < 10_000
    assert line["time"].endswith("+00:00")


@pytest.mark.django_db
def test_a_sane_request_id_from_the_caller_is_kept_and_others_replaced(client, json_lines):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n{}")

    assert kept["X-Request-ID"] == "lb-1234.abc"
    assert replaced["X-Request-ID"] != "bad id\n{}" and len(replaced["X-Request-ID"]) == 32
    users = [e["user"] for e in json_lines() if e["logger"] == "driftwatch.request"]
    assert users == ["", ""]  # a probe never looks the user up (no session, no database)


@pytest.mark.django_db
def test_integrations_are_named_and_django_s_own_warnings_carry_the_request_id(api, credit_key, json_lines):
    answer = api(key=credit_key).get("/api/v1/models/no-such-model/")

    lines = json_lines()
    request_line = next(e for e in lines if e["logger"] == "driftwatch.request")
    warning = next(e for e in lines if e["logger"] == "django.request")
    assert request_line["user"] == "integration:scoring service" and request_line["status"] == 404
    assert warning["request_id"] == answer["X-Request-ID"]


@pytest.mark.django_db
def test_request_bodies_and_query_strings_are_never_logged(api, alice, credit_v1, json_lines):
    record = prediction(1)
    record["features"]["email"] = "very-secret@example.com"
    api(alice).post(
        "/api/v1/models/credit-risk/predictions/?partial=true&token=query-secret",
        {"version": "v1", "records": [record, {"id": "x", "features": {"income": "secret-income"}}]},
        format="json",
    )

    text = json.dumps(json_lines())
    assert "driftwatch.request" in text
    assert "very-secret" not in text and "secret-income" not in text and "query-secret" not in text


def test_the_json_formatter_writes_one_object_with_fields_and_the_exception():
    record = logging.LogRecord("x.y", logging.ERROR, __file__, 1, "broke %s", ("here",), None)
    record.model = "credit-risk"
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "broke here" and entry["level"] == "ERROR" and entry["logger"] == "x.y"
    assert entry["model"] == "credit-risk" and entry["exc_type"] == "ValueError"
    assert "Traceback" in entry["exc"] and "\n" not in JsonFormatter().format(record)


def test_django_log_format_json_selects_the_json_formatter(monkeypatch):
    import monitoring_site.settings as settings_module

    try:
        monkeypatch.setenv("DJANGO_LOG_FORMAT", "json")
        assert importlib.reload(settings_module).LOGGING["handlers"]["console"]["formatter"] == "json"
        monkeypatch.delenv("DJANGO_LOG_FORMAT")
        assert importlib.reload(settings_module).LOGGING["handlers"]["console"]["formatter"] == "plain"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
