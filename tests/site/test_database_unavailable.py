"""A database that does not answer is a 503 with Retry-After, in JSON under /api/, never a 500."""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from monitoring_site.db_errors import is_database_unavailable, server_error
from tests.conftest import prediction

DETAIL = {"detail": "The database is unavailable; retry shortly.", "errors": []}


def lost_connection() -> OperationalError:
    # What Django raises when psycopg loses the server: its own error, caused by psycopg's.
    try:
        raise psycopg.OperationalError("server closed the connection unexpectedly")
    except psycopg.OperationalError as cause:
        try:
            raise OperationalError("server closed the connection unexpectedly") from cause
        except OperationalError as exc:
            return exc


@pytest.mark.django_db
def test_an_ingestion_request_meeting_a_lost_connection_answers_503(api, credit_key, monkeypatch):
    def model_for(user, slug):
        raise lost_connection()

    # Patched where the view looks it up, so no module that imported it by name keeps the fake.
    monkeypatch.setattr("drift.api.views.model_for", model_for)

    answer = api(key=credit_key).post(
        "/api/v1/models/credit-risk/predictions/",
        {"version": "v1", "records": [prediction(1)]},
        format="json",
    )

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5" and answer["Cache-Control"] == "no-store"
    assert answer.json() == DETAIL


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        InterfaceError("connection already closed"),
        psycopg.OperationalError("the database system is shutting down"),
    ],
)
def test_a_read_meeting_a_closed_connection_answers_503(api, alice, monkeypatch, error):
    def models_visible_to(user):
        raise error

    monkeypatch.setattr("drift.api.views.models_visible_to", models_visible_to)

    answer = api(alice).get("/api/v1/models/")

    assert (answer.status_code, answer["Retry-After"], answer.json()) == (503, "5", DETAIL)


@pytest.mark.django_db
def test_an_outage_met_outside_a_view_answers_503_too(monkeypatch, plain_static_storage):
    # The session middleware reads the database before any view runs; Django then calls handler500.
    def load_session(self, request):
        raise lost_connection()

    monkeypatch.setattr("django.contrib.sessions.middleware.SessionMiddleware.process_request", load_session)
    client = Client(raise_request_exception=False)

    page = client.get("/login/")
    api = client.get("/api/v1/models/")

    assert page.status_code == 503 and page["Retry-After"] == "5" and b"briefly unavailable" in page.content
    assert page["Content-Type"].startswith("text/html")
    assert (api.status_code, api.json()) == (503, DETAIL)


@pytest.mark.django_db
def test_other_errors_stay_500(api, alice, monkeypatch):
    def models_visible_to(user):
        raise ValueError("a bug")

    monkeypatch.setattr("drift.api.views.models_visible_to", models_visible_to)
    client = api(alice)
    client.raise_request_exception = False

    answer = client.get("/api/v1/models/")

    assert answer.status_code == 500 and "Retry-After" not in answer


def test_the_500_handler_recognises_a_database_outage_in_the_exception_being_handled(rf):
    try:
        raise lost_connection()
    except OperationalError:
        answer = server_error(rf.get("/api/v1/models/"))
    assert (answer.status_code, answer["Retry-After"]) == (503, "5")


def test_only_database_availability_errors_count():
    wrapped = RuntimeError("wrapper")
    wrapped.__cause__ = lost_connection()

    assert is_database_unavailable(lost_connection()) and is_database_unavailable(wrapped)
    assert not is_database_unavailable(ValueError("x")) and not is_database_unavailable(None)
