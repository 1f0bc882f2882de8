"""Retention, and failures that must leave nothing that looks like a backup."""

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import wait_until
from tests.ops.helpers import ROOT, libpq, run_script, script_env

DAY = 24 * 3600


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_retention_prunes_old_backups_and_keeps_recent_ones(
    source_db: tuple[str, list[int]], tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "iterative_prediction_20200101T000000Z.dump"
    edge = backups / "iterative_prediction_20200102T000000Z.dump"
    today = backups / "iterative_prediction_20200103T000000Z.dump"
    foreign = backups / "keep-me.dump"
    stale_partial = backups / ".iterative_prediction_20200104T000000Z.dump.partial.123"
    for path in (old, edge, today, foreign, stale_partial):
        path.write_bytes(b"x")
    _age(old, 10 * DAY)
    _age(edge, 3 * DAY - 600)  # younger than the 3 days kept
    _age(today, 3600)
    _age(foreign, 30 * DAY)  # not named like a backup: never touched
    _age(stale_partial, 2 * DAY)  # a killed run's leftover

    env = script_env(
        DATABASE_URL=libpq(source_db[0]), BACKUP_DIR=backups, BACKUP_RETENTION_DAYS="3"
    )
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert log["pruned"] == [old.name]
    assert log["retention_days"] == 3
    new = Path(log["file"])
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        [edge.name, today.name, foreign.name, new.name]
    )


def test_retention_zero_keeps_everything(source_db: tuple[str, list[int]], tmp_path: Path) -> None:
    old = tmp_path / "iterative_prediction_20200101T000000Z.dump"
    old.write_bytes(b"x")
    _age(old, 400 * DAY)
    env = script_env(
        DATABASE_URL=libpq(source_db[0]), BACKUP_DIR=tmp_path, BACKUP_RETENTION_DAYS="0"
    )
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert log["pruned"] == [] and old.exists()


def test_invalid_retention_fails_before_dumping(tmp_path: Path) -> None:
    env = script_env(
        DATABASE_URL="postgresql://postgres@/none", BACKUP_DIR=tmp_path, BACKUP_RETENTION_DAYS="7d"
    )
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 2
    assert log["status"] == "error" and "BACKUP_RETENTION_DAYS" in log["error"]
    assert list(tmp_path.iterdir()) == []


def test_unreachable_database_fails_and_leaves_no_file(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    # Nothing listens on port 1 of the loopback: the connection is refused at once.
    env = script_env(
        DATABASE_URL="postgresql+psycopg://postgres:secret@127.0.0.1:1/iterative_prediction"
        "?connect_timeout=3",
        BACKUP_DIR=backups,
    )
    result, log = run_script("backup.sh", env=env)
    assert result.returncode != 0
    assert log["status"] == "error" and log["error"].startswith("pg_dump failed")
    assert "secret" not in result.stdout + result.stderr
    assert log["database"].startswith("postgresql://postgres:***@127.0.0.1:1/")
    assert list(backups.iterdir()) == []


def _fake_pg_bin(directory: Path, body: str) -> Path:
    """A pg_dump that writes part of a file, then runs `body`."""
    directory.mkdir()
    fake = directory / "pg_dump"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'for a in "$@"; do case "$a" in --file=*) out=${a#--file=} ;; esac; done\n'
        'printf "PGDMP partial" > "$out"\n' + body + "\n"
    )
    fake.chmod(0o755)
    return directory


def test_failing_pg_dump_leaves_no_partial_file(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    pg_bin = _fake_pg_bin(tmp_path / "bin", 'echo "pg_dump: error: disk full" >&2; exit 1')
    env = script_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/x", BACKUP_DIR=backups, PG_BIN=pg_bin
    )
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 1
    assert log["status"] == "error" and "disk full" in log["detail"]
    assert list(backups.iterdir()) == []


def test_interrupted_backup_leaves_no_partial_file(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    # Bounded: the fake gives up by itself after 30 s if the test fails to stop it.
    pg_bin = _fake_pg_bin(tmp_path / "bin", "exec sleep 30")
    env = script_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/x", BACKUP_DIR=backups, PG_BIN=pg_bin
    )
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "backup.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: backups.is_dir() and any(backups.iterdir()), timeout=20)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 143
    assert '"status":"error"' in stdout and "SIGTERM" in stdout
    assert list(backups.iterdir()) == []


def test_two_backups_in_one_second_get_distinct_names(
    source_db: tuple[str, list[int]], tmp_path: Path
) -> None:
    env = script_env(DATABASE_URL=libpq(source_db[0]), BACKUP_DIR=tmp_path)
    names = set()
    for _ in range(3):
        result, log = run_script("backup.sh", env=env)
        assert result.returncode == 0, result.stderr
        names.add(Path(log["file"]).name)
    assert len(names) == 3 and {p.name for p in tmp_path.iterdir()} == names
