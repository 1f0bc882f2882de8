"""Alembic environment: the app's settings give the URL; an advisory lock serialises
concurrent upgrades (several gunicorn workers starting at once)."""

from logging.config import fileConfig

from sqlalchemy import create_engine, pool, text

from alembic import context
from backend.db.migrate import include_name
from backend.db.models import Base

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name)

MIGRATION_LOCK_ID = 7_314_001


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from backend.core.config import get_settings
    from backend.db.session import database_url

    return database_url(get_settings())


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            context.configure(
                connection=connection, target_metadata=Base.metadata, include_name=include_name
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()


run_migrations_online()
