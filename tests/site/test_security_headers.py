"""Security headers on every kind of answer: HTML pages, API JSON, the API docs, and HSTS over HTTPS."""

import base64
import hashlib
import re
from pathlib import Path

import pytest

from monitoring_site.security import CONTENT_SECURITY_POLICY, PLOTLY_MAPLIBRE_STYLE_HASH

ROOT = Path(__file__).resolve().parents[2]


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def assert_secure_headers(answer) -> dict[str, list[str]]:
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Referrer-Policy"] == "same-origin"
    assert "camera=()" in answer["Permissions-Policy"] and "geolocation=()" in answer["Permissions-Policy"]
    policy = directives(answer["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no inline or injected script, anywhere
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]
    return policy


def inline_scripts(html: str) -> list[str]:
    """<script> elements a browser would run that are not files (JSON data blocks are not run)."""
    tags = re.findall(r"<script\b([^>]*)>", html, flags=re.I)
    return [t for t in tags if "src=" not in t and "application/json" not in t]


@pytest.mark.django_db
def test_an_html_page_an_api_answer_and_the_docs_carry_the_headers(client, api, alice, plain_static_storage):
    page = client.get("/login/")
    answer = api(alice).get("/api/v1/models/")
    docs = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert page.status_code == answer.status_code == docs.status_code == script.status_code == 200
    for response in (page, answer, docs, script):
        assert_secure_headers(response)
    # Our own pages: no inline <style> either, except the two Plotly needs, by hash.
    own = directives(page["Content-Security-Policy"])
    assert (
        "'unsafe-inline'" not in own["style-src-elem"] and PLOTLY_MAPLIBRE_STYLE_HASH in own["style-src-elem"]
    )
    # Swagger UI's page keeps its one inline <style>; its init script is a file of its own.
    assert directives(docs["Content-Security-Policy"])["style-src"] == ["'self'", "'unsafe-inline'"]
    assert inline_scripts(page.content.decode()) == []
    assert inline_scripts(docs.content.decode()) == []
    assert '<script src="/api/docs/?script="' in docs.content.decode()
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
def test_error_answers_carry_the_headers_too(client, api, alice):
    not_found = api(alice).get("/api/v1/models/no-such-model/")
    refused = client.get("/api/v1/models/")
    assert (not_found.status_code, refused.status_code) == (404, 401)
    for response in (not_found, refused):
        assert_secure_headers(response)
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_https_answers_carry_hsts_and_plain_http_is_redirected(client, settings, plain_static_storage):
    settings.SECURE_SSL_REDIRECT = True  # production: DEBUG off, the redirect and HSTS on

    plain = client.get("/login/")
    secure = client.get("/login/", secure=True)

    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in plain  # browsers ignore HSTS over plain HTTP anyway


def test_production_defaults_turn_hsts_on_and_debug_turns_it_off(monkeypatch):
    import importlib

    import monitoring_site.settings as settings_module

    try:
        monkeypatch.delenv("DJANGO_DEBUG", raising=False)
        production = importlib.reload(settings_module)
        assert (production.SECURE_HSTS_SECONDS, production.SECURE_SSL_REDIRECT) == (31_536_000, True)
        assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
        monkeypatch.setenv("DJANGO_DEBUG", "true")
        development = importlib.reload(settings_module)
        assert (development.SECURE_HSTS_SECONDS, development.SECURE_SSL_REDIRECT) == (0, False)
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


def test_the_plotly_style_hash_matches_the_vendored_plotly():
    """The policy allows Plotly's one fixed <style> block by its hash: upgrading plotly.min.js changes
    that block, and then this test names the hash to put in monitoring_site.security."""
    source = (ROOT / "static/vendor/plotly.min.js").read_text(encoding="utf-8")
    start = source.index("e.textContent=`.maplibregl-map") + len("e.textContent=`")
    css = source[start : source.index("`", start)]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == PLOTLY_MAPLIBRE_STYLE_HASH
