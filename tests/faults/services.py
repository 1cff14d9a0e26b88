"""Throwaway PostgreSQL, Redis, gunicorn and Celery processes for the fault tests.

Each fault test breaks a service on purpose (restarts the database, stops the broker, kills a worker),
so it must own that service: never the shared PostgreSQL on 5432 or Redis on 6379. Everything here runs
on free loopback ports in temporary directories and is torn down on exit, also when a test fails.

    with private_postgres() as pg:             # initdb + pg_ctl, as the postgres OS user when root
        url = pg.create_database("case1")      # a migrated copy of the template database
        with private_redis() as redis, celery_worker(env={...}) as worker:
            ...
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TEMPLATE_DB = "driftwatch_template"


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI (.ci/run sets CI), where the fault tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the fault tests must run.", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], bool],
    what: str,
    timeout: float = 30.0,
    every: float = 0.1,
    context: Callable[[], str] | None = None,
) -> None:
    """Poll `check` until true; on time-out fail, saying what was awaited (and `context()`, e.g. a log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    detail = f"\n{context()[-3000:]}" if context else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a Driftwatch child process: production-like, quiet, on plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    env.update(
        {
            # Never the shared services of the caller's environment: empty means embedded/none.
            "DATABASE_URL": "",
            "CELERY_BROKER_URL": "",
            "CACHE_URL": "",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def manage(*args: str, env: Mapping[str, str], timeout: float = 120) -> str:
    answer = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if answer.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{answer.stdout[-2000:]}\n{answer.stderr[-4000:]}"
        )
    return answer.stdout


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian packages create the `postgres` user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PrivatePostgres:
    bin: Path
    dir: Path
    port: int
    log: Path = field(init=False)
    # What the fault tests' conftest seeded into the template (tokens, slugs).
    seeded: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log = self.dir / "postgres.log"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=100"
        )
        subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, *args]
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self) -> None:
        self._ctl("-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-w", "-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        self._ctl("-w", "-m", mode, "restart")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def sql(self, statement: str, db: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        """A fresh database cloned from the migrated template (`migrate_template` first)."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        return self.url(name)

    def migrate_template(self) -> None:
        self.sql(f'CREATE DATABASE "{TEMPLATE_DB}"')
        manage("migrate", "--noinput", env=child_env(DATABASE_URL=self.url(TEMPLATE_DB)), timeout=300)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of our own on a free port, with a migrated template database."""
    pg_bin = _pg_bin()
    if pg_bin is None or shutil.which("runuser") is None:
        unavailable("needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and runuser")
    if os.geteuid() != 0:
        unavailable("needs root, to run initdb as the postgres user")
    workdir = Path(tempfile.mkdtemp(prefix="dw-fault-pg-"))
    shutil.chown(workdir, user="postgres", group="postgres")
    pg = PrivatePostgres(bin=pg_bin, dir=workdir, port=free_port())
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(pg.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        pg.start()
        pg.migrate_template()
        yield pg
    finally:
        with contextlib.suppress(Exception):
            if pg.running():
                pg.stop(mode="immediate")
        shutil.rmtree(workdir, ignore_errors=True)


# --- Redis -----------------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    port: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, "redis-server to answer", timeout=10)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        unavailable("needs redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="dw-fault-redis-"))
    server = PrivateRedis(port=free_port(), dir=workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# --- Celery worker ---------------------------------------------------------------------------------


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def celery_worker(
    *, env: Mapping[str, str], logdir: Path, name: str = "worker", command: list[str] | None = None
) -> Iterator[Worker]:
    """A Celery worker (prefork, one child) in its own process group; waits until it is ready."""
    log = logdir / f"{name}.log"
    cmd = command or [str(VENV_BIN / "celery"), "-A", "monitoring_site"]
    args = [
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        "-l",
        "info",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cmd, *args],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(proc=proc, log=log)
    try:
        wait_for(lambda: " ready." in worker.text() or proc.poll() is not None, f"{name} to start", 60, 0.2)
        assert proc.poll() is None, worker.text()[-3000:]
        yield worker
    finally:
        worker.stop()
