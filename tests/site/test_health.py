import pytest


@pytest.mark.django_db
def test_healthz_answers_without_touching_anything(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database_and_the_broker(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] in {"ok", "embedded (tasks run in-process)"}


@pytest.mark.django_db
def test_readyz_answers_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["broker"].startswith("error")


@pytest.mark.django_db
def test_probes_are_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/models/").status_code == 301


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_404(client):
    answer = client.get("/api/v1/no-such-thing/")
    assert answer.status_code == 404
    assert "No API endpoint" in answer.json()["detail"]


def test_an_empty_database_url_means_the_embedded_default(monkeypatch):
    import importlib

    import monitoring_site.settings as settings_module

    monkeypatch.setenv("DATABASE_URL", "")
    reloaded = importlib.reload(settings_module)
    try:
        assert reloaded.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
