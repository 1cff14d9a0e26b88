"""Every URL, as every principal, answers as tests/site/permission_matrix.py says; every exposed route has a
row; README.md's "Roles and permissions" table is the matrix's RULES, cell for cell.

People call pages with a session and the API with their personal token; integration keys send
`Authorization: Token dwi_…` everywhere (on pages it must count for nothing). The data is built once for
the module inside a transaction that is rolled back at the end; each test runs in a savepoint of it, so
an allowed write changes nothing the next test sees.
"""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from tests.site.permission_matrix import LOGIN, OK, README_HEADER, ROWS, RULES, Outcome, Row
from tests.site.permission_world import PRINCIPALS, World, build_world

README = Path(__file__).resolve().parents[2] / "README.md"
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
        made = build_world()
        yield made
        transaction.set_rollback(True)


def path_of(row: Row, world: World) -> str:
    return row.url if row.url.startswith("/") else reverse(row.url, kwargs=row.kwargs(world))


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def client_for(principal: str, world: World, path: str) -> Any:
    """Sessions on pages, tokens on the API; a key is sent as a token header everywhere."""
    if principal.endswith("_key") or (is_api(path) and principal != "anonymous"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[principal]}")
        return client
    client = Client()
    if principal != "anonymous":
        client.force_login(world.users[principal])
    return client


def call(row: Row, principal: str, world: World) -> Any:
    path = path_of(row, world)
    client = client_for(principal, world, path)
    send = getattr(client, row.method.lower())
    if row.method == "GET":
        return send(path)
    if is_api(path):
        return send(path, row.body, content_type="application/json")
    return send(path, row.body)  # a form post, like the page's own form


def is_sign_in_redirect(response: Any) -> bool:
    if response.status_code not in (301, 302, 303):
        return False
    target = urlsplit(response["Location"])
    return target.path in {reverse("login"), reverse("admin:login")} and "next=" in target.query


def outcome_of(response: Any, method: str) -> Outcome:
    """What a principal got, in the matrix's words; anything else is described for the failure."""
    status = response.status_code
    if is_sign_in_redirect(response):
        return LOGIN
    if status in (401, 403, 404):
        return status
    if status < 400 or (method != "GET" and status < 500 and status != 405):
        return OK
    return f"unexpected {status}"


def case_id(row: Row, principal: str) -> str:
    body = f" {row.body}" if row.body else ""
    return f"{row.method} {row.url}{body} as {principal}"


CASES = [pytest.param(row, principal, id=case_id(row, principal)) for row in ROWS for principal in PRINCIPALS]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "principal"), CASES)
def test_each_url_answers_each_principal_as_the_matrix_says(
    world: World, row: Row, principal: str, settings: Any
) -> None:
    if row.url.startswith("/static/"):
        settings.WHITENOISE_USE_FINDERS = True  # served without `collectstatic`, as in development
    expected = RULES[row.rule].outcomes[PRINCIPALS.index(principal)]

    response = call(row, principal, world)

    got = outcome_of(response, row.method)
    assert got == expected, (
        f"{row.method} {path_of(row, world)} as {principal}: the matrix says {expected!r} ({row.rule}), "
        f"got {response.status_code} {response.get('Location', '')} {response.content[:200]!r}"
    )


def exposed_routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(route, view) for every pattern the URLconf exposes, includes walked; routes as `resolve` gives."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from exposed_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def methods_of(view: Any) -> set[str]:
    """The methods a class-based view implements (HEAD and OPTIONS come free); none for a function."""
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is None:
        return set()
    return {m.upper() for m in cls.http_method_names if m not in ("head", "options") and hasattr(cls, m)}


@pytest.mark.django_db
def test_every_exposed_url_and_method_has_a_row(world: World) -> None:
    covered: dict[str, set[str]] = {}
    prefixes = {row.covers for row in ROWS if row.covers}
    for row in ROWS:
        path = path_of(row, world)
        if path.startswith("/static/"):
            continue  # served by WhiteNoise before the URLconf
        covered.setdefault(resolve(path).route, set()).add(row.method)

    missing = []
    for route, view in exposed_routes(get_resolver().url_patterns):
        if any(route.startswith(prefix) for prefix in prefixes):
            continue
        if route not in covered:
            missing.append(f"/{route} (no row)")
        elif unlisted := methods_of(view) - covered[route]:
            missing.append(f"/{route} ({', '.join(sorted(unlisted))} without a row)")

    assert not missing, "Add rows to tests/site/permission_matrix.py for:\n" + "\n".join(missing)


def test_every_row_names_a_rule_and_no_rule_is_unused() -> None:
    used = {row.rule for row in ROWS}

    assert used <= RULES.keys(), used - RULES.keys()
    assert RULES.keys() <= used, RULES.keys() - used


def readme_table() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The header and the rows of the first table under "## Roles and permissions"."""
    section = README.read_text(encoding="utf-8").split("\n## Roles and permissions\n", 1)[1]
    lines = section.split("\n## ", 1)[0].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    cells = [tuple(c.strip() for c in line.strip().strip("|").split("|")) for line in table]
    return cells[0], {row[0]: row[1:] for row in cells[2:]}


def test_the_readme_table_says_what_the_matrix_says() -> None:
    header, documented = readme_table()

    assert header == README_HEADER
    assert documented == {rule.label: tuple(str(o) for o in rule.outcomes) for rule in RULES.values()}


def test_an_allowed_answer_is_told_apart_from_a_refusal() -> None:
    class Answer(dict):
        def __init__(self, status: int, location: str = "") -> None:
            super().__init__({"Location": location} if location else {})
            self.status_code = status

    assert outcome_of(Answer(302, "/login/?next=/models/x/"), "GET") == LOGIN
    assert outcome_of(Answer(302, "/login/"), "POST") == OK  # signing out ends at the sign-in page
    assert outcome_of(Answer(400), "POST") == OK
    assert outcome_of(Answer(400), "GET") == "unexpected 400"
    assert outcome_of(Answer(405), "POST") == "unexpected 405"
    assert outcome_of(Answer(500), "POST") == "unexpected 500"
    assert outcome_of(Answer(403), "GET") == 403
