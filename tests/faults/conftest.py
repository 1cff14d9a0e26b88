"""Fault tests: real gunicorn and Celery processes on a PostgreSQL and a Redis of their own.

They break those services on purpose, so they never use the shared ones; see tests/faults/services.py.
Marked `faults`; .ci/run runs them (they need root for runuser, and the PostgreSQL server binaries).
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.services import ROOT, TEMPLATE_DB, PrivatePostgres, child_env, private_postgres


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: breaks private PostgreSQL/Redis/worker processes on purpose")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Opt-in: they take a minute and need root, so they run only when asked for by path
    (`pytest tests/faults`) or by marker (`-m faults`), as .ci/run does; a plain `pytest` skips them."""
    here = Path(__file__).resolve().parent
    asked_by_path = config.args_source == pytest.Config.ArgsSource.ARGS and any(
        here == Path(arg.split("::")[0]).resolve() or here in Path(arg.split("::")[0]).resolve().parents
        for arg in config.args
    )
    marker = config.getoption("-m") or ""
    asked_by_marker = "faults" in marker and "not faults" not in marker
    if asked_by_path or asked_by_marker:
        return
    skip = pytest.mark.skip(reason="fault tests run on request: pytest tests/faults (or -m faults)")
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg() -> Iterator[PrivatePostgres]:
    """One private PostgreSQL for the session, whose template database is migrated and seeded
    (`seeded`): each test clones it with `pg.create_database(name)`."""
    with private_postgres() as server:
        server.seeded = seed(server.url(TEMPLATE_DB))
        yield server


@pytest.fixture
def seeded(pg: PrivatePostgres) -> dict[str, Any]:
    """alice's token and the seeded model's slug and version, the same in every clone."""
    return pg.seeded


def seed(database_url: str) -> dict[str, Any]:
    """Seed the `faulty` model and alice into a database; her token and the model's slug and version."""
    answer = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed"],
        cwd=ROOT,
        env=child_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if answer.returncode != 0:
        raise RuntimeError(answer.stderr[-4000:])
    return json.loads(answer.stdout.strip().splitlines()[-1])
