"""The app alone on an empty DATA_DIR: starts its embedded PostgreSQL, migrates, answers health;
503 when the database goes away. And a provider key never shows up anywhere it should not."""

import subprocess
import sys

from sqlalchemy import create_engine, pool, text

from backend.db.embedded import DATABASE_NAME
from tests.helpers import (
    ROOT,
    ApiClient,
    LiveServer,
    api_env,
    reference_table,
    sample_table,
    unique_ids,
    wait_until,
)

SECRET = "sk-test-DO-NOT-LEAK-4f9a2c"


def embedded(data_dir, command: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "backend.db.embedded", command],
        cwd=ROOT,
        env={"DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_empty_data_dir_comes_up_ready_and_reports_a_lost_database(fake_llm, tmp_path):
    env = api_env("", tmp_path, fake_llm, OPENAI_API_KEY=SECRET)
    env.pop("DATABASE_URL", None)  # also from the caller's environment: the embedded server
    server = LiveServer(env, tmp_path)
    server.start(timeout=120)
    try:
        with ApiClient(server.base_url) as api:
            assert api.get("/api/health").json()["database"] == "ok"
            ids = unique_ids(2)
            fake_llm.script({i: {"rounds": [{"UTS": 600, "El": 12}]} for i in ids})
            task_id = api.start(sample_table(ids), reference_table())
            api.wait(task_id)
            answers = [
                api.get(f"/api/tasks/{task_id}").text,
                api.get(f"/api/results/{task_id}/iterations").text,
                api.get("/api/tasks").text,
                api.get("/openapi.json").text,
            ]
            assert all(SECRET not in a for a in answers)
            assert SECRET not in _database_text(embedded(tmp_path, "url"))

            embedded(tmp_path, "stop")
            lost = api.get("/api/health")
            assert lost.status_code == 503
            assert lost.json()["error"] == "DATABASE_UNAVAILABLE"
            down = api.get(f"/api/tasks/{task_id}")
            assert down.status_code == 503, down.text  # an outage, not a bug: never a 500
            assert down.json()["error"] == "DATABASE_UNAVAILABLE"

            embedded(tmp_path, "url")  # the database comes back
            wait_until(lambda: api.get(f"/api/tasks/{task_id}").status_code == 200, timeout=20)
            assert api.get("/api/health").status_code == 200
    finally:
        server.stop()
        embedded(tmp_path, "stop")
    assert SECRET not in server.log()


def _database_text(libpq_url: str) -> str:
    """Every row of every table, as text."""
    url = libpq_url.replace("postgresql://", "postgresql+psycopg://", 1)
    assert DATABASE_NAME in url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        dump = [
            str(connection.execute(text(f'SELECT * FROM "{name}"')).all()) for name in list(names)
        ]
    engine.dispose()
    return "\n".join(dump)
