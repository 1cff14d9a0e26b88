"""Back up Driftwatch's database and prove a backup restores: scripts/backup and scripts/restore-check.

backup: `pg_dump --format=custom` of DATABASE_URL, plus `<dump>.counts.json`, the row count of every
table *in the same snapshot as the dump* (the counts are taken in a transaction whose exported snapshot
pg_dump reuses), so a restore can be checked exactly even though the live database moved on.

restore-check: restores a dump into a fresh scratch database on the same server (named
`driftwatch_restore_check_<time>`, dropped afterwards unless --keep), compares every table's row count
with the dump's manifest, checks that the audit log's append-only trigger came back, and exits 1 on any
difference.

Needs psycopg (installed with Driftwatch) and the PostgreSQL client tools (pg_dump, pg_restore) of a
version at least the server's.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
AUDIT_TRIGGER_TABLE = "governance_auditentry"


def libpq_url(url: str) -> str:
    """dj-database-url spellings (postgres://, postgresql://, pgsql://) as a libpq connection URI."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(f"not a PostgreSQL URL: {parts.scheme}://… (backups need PostgreSQL)")
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(
            f"{name} not found: install the PostgreSQL client tools (apt-get install postgresql-client)"
        )
    return found


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row count of every ordinary table in the public schema."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    return {
        table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        for table in tables
    }


def backup(url: str, out: Path) -> None:
    url = libpq_url(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    started = time.monotonic()
    # One REPEATABLE READ transaction exports its snapshot; pg_dump dumps exactly that snapshot while we
    # count the rows in it, so the manifest describes the dump and nothing else.
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        dump = subprocess.Popen(
            [
                tool("pg_dump"),
                "--format=custom",
                "--compress=6",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={partial}",
                f"--dbname={url}",
            ]
        )
        counts = table_counts(conn)
        if dump.wait() != 0:
            partial.unlink(missing_ok=True)
            raise SystemExit(f"pg_dump failed with exit code {dump.returncode}")
        conn.rollback()
    partial.rename(out)
    manifest = {
        "dump": out.name,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": urlsplit(url).path.lstrip("/"),
        "tables": counts,
    }
    Path(f"{out}.counts.json").write_text(json.dumps(manifest, indent=2) + "\n")
    rows = sum(counts.values())
    print(
        f"{out}: {out.stat().st_size / 1e6:.1f} MB, {len(counts)} tables, {rows:,} rows, "
        f"{time.monotonic() - started:.1f} s"
    )


@contextlib.contextmanager
def scratch_database(server_url: str, keep: bool) -> Iterator[str]:
    name = f"driftwatch_restore_check_{datetime.now(UTC):%Y%m%d%H%M%S}_{os.getpid()}"
    admin = with_database(server_url, "postgres")

    def run(statement: sql.Composable) -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        if keep:
            print(f"kept the restored database {name}")
        else:
            run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def restore_check(url: str, dump: Path, keep: bool) -> bool:
    manifest_path = Path(f"{dump}.counts.json")
    if not dump.exists():
        raise SystemExit(f"no such dump: {dump}")
    if not manifest_path.exists():
        raise SystemExit(f"{manifest_path} is missing: make backups with scripts/backup")
    expected: dict[str, int] = json.loads(manifest_path.read_text())["tables"]
    started = time.monotonic()
    with scratch_database(libpq_url(url), keep) as target:
        subprocess.run(
            [
                tool("pg_restore"),
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--jobs=2",
                f"--dbname={target}",
                str(dump),
            ],
            check=True,
        )
        with psycopg.connect(target) as conn:
            restored = table_counts(conn)
            trigger = conn.execute(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = %s AND NOT t.tgisinternal",
                [AUDIT_TRIGGER_TABLE],
            ).fetchone()[0]
    width = max(map(len, expected | restored), default=10)
    print(f"{'table':<{width}}  {'in the dump':>12}  {'restored':>12}")
    ok = True
    for table in sorted(expected.keys() | restored.keys()):
        want, got = expected.get(table), restored.get(table)
        mark = "" if want == got else "  <-- differs"
        ok &= want == got
        shown = ["-" if n is None else str(n) for n in (want, got)]
        print(f"{table:<{width}}  {shown[0]:>12}  {shown[1]:>12}{mark}")
    if AUDIT_TRIGGER_TABLE in expected and trigger == 0:
        print(f"the append-only trigger of {AUDIT_TRIGGER_TABLE} was not restored")
        ok = False
    took = time.monotonic() - started
    total = sum(restored.values())
    print(
        f"restore check {'passed' if ok else 'FAILED'}: {len(restored)} tables, {total:,} rows, {took:.1f} s"
    )
    return ok


def latest_dump(directory: Path) -> Path:
    dumps = sorted(directory.glob("*.dump"), key=lambda p: p.stat().st_mtime)
    if not dumps:
        raise SystemExit(f"no *.dump in {directory}; give the dump's path")
    return dumps[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="dump DATABASE_URL")
    make.add_argument("file", nargs="?", help="default: backups/driftwatch-<UTC time>.dump")
    check = commands.add_parser("restore-check", help="restore a dump into a scratch database and compare")
    check.add_argument("file", nargs="?", help="default: the newest backups/*.dump")
    check.add_argument("--keep", action="store_true", help="keep the restored scratch database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("set DATABASE_URL (postgres://user:password@host:5432/name)")
    backups = Path(os.environ.get("DRIFTWATCH_BACKUP_DIR", ROOT / "backups"))
    if args.command == "backup":
        backup(
            url,
            Path(args.file) if args.file else backups / f"driftwatch-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump",
        )
    else:
        sys.exit(
            0 if restore_check(url, Path(args.file) if args.file else latest_dump(backups), args.keep) else 1
        )


if __name__ == "__main__":
    main()
