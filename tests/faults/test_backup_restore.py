"""scripts/backup and scripts/restore-check on a small database of the private PostgreSQL: the dump
restores with every table's rows, the audit log's trigger, and a tampered manifest is caught."""

import json
import subprocess

import pytest

from tests.faults.services import ROOT, child_env

pytestmark = pytest.mark.faults


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_backup_restores_with_every_row_and_a_wrong_count_is_caught(pg, tmp_path):
    url = pg.create_database("backed_up")
    pg.sql(
        "INSERT INTO drift_healthsample (model_id, timestamp, received_at, queue_depth) "
        "SELECT id, now(), now(), 3 FROM drift_monitoredmodel",
        "backed_up",
    )
    env = child_env(DATABASE_URL=url, DRIFTWATCH_BACKUP_DIR=str(tmp_path))

    made = run("backup", env=env)
    assert made.returncode == 0, made.stderr
    (dump,) = tmp_path.glob("*.dump")
    manifest = json.loads(dump.with_name(dump.name + ".counts.json").read_text())
    assert manifest["tables"]["drift_referencerow"] == 600 and manifest["tables"]["drift_healthsample"] == 1

    checked = run("restore-check", env=env)  # the newest dump of the backup directory
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "restore check passed" in checked.stdout and "drift_referencerow" in checked.stdout

    manifest["tables"]["drift_referencerow"] = 601
    dump.with_name(dump.name + ".counts.json").write_text(json.dumps(manifest))
    tampered = run("restore-check", str(dump), env=env)
    assert tampered.returncode == 1 and "<-- differs" in tampered.stdout
    # Scratch databases are dropped, also after a failed check.
    assert pg.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'driftwatch_restore_check_%'") == [
        (0,)
    ]
