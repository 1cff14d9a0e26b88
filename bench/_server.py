"""Helpers shared by the benchmarks: a scratch PostgreSQL database and a real gunicorn on loopback.

Both are context managers that clean up on exit, including on errors and Ctrl-C:

    with scratch_database("postgres://postgres@127.0.0.1:5432/driftwatch_bench") as url:
        with gunicorn_server(env={"DATABASE_URL": url}, workers=2) as server:
            ...  # talk HTTP to server.url
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _admin_url(url: str) -> tuple[str, str]:
    """The same server's `postgres` database (to CREATE/DROP from) and the scratch database's name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


@contextmanager
def scratch_database(url: str, *, keep: bool = False) -> Iterator[str]:
    """Drop and re-create the database named in `url`, yield `url`, drop it again on exit unless `keep`.

    Refuses names without "bench" in them, so a mistyped DATABASE_URL cannot wipe a real database.
    """
    admin, name = _admin_url(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop and re-create database {name!r}: its name must contain 'bench'")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url
    finally:
        if not keep:
            drop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server's process group (arbiter and its workers), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; 0.0 where unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (a gunicorn arbiter's workers), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                children.append(int(entry.name))
    return children


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the arbiter; its children are the workers


@contextmanager
def gunicorn_server(
    *,
    env: Mapping[str, str],
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    timeout: int = 60,
    ready_path: str = "/api/v1/models/",
    startup_seconds: float = 30.0,
) -> Iterator[Server]:
    """Run `gunicorn monitoring_site.wsgi` on a free loopback port; yields its URL and process id.

    Production-like settings: DJANGO_DEBUG unset, only SSL redirect off (no TLS on loopback) and
    ALLOWED_HOSTS=127.0.0.1. Gunicorn's own log goes to a temporary file, shown if the server fails.
    """
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    child_env.update(
        {
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    child_env.update(env)
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "monitoring_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--error-logfile",
        log.name,
    ]
    # Own process group, so stopping it also stops its workers and nothing else.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(base + ready_path, timeout=5) as answer:
                    answer.read()
                break
            except urllib.error.HTTPError:
                break  # it answered (401/403 is fine): the server is up
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within {startup_seconds:.0f}s") from None
                time.sleep(0.2)
        yield Server(url=base, pid=proc.pid)
    except BaseException:
        sys.stderr.write(Path(log.name).read_text()[-4000:])
        raise
    finally:
        _stop(proc)
        log.close()
        os.unlink(log.name)
