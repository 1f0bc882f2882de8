from sqlalchemy import create_engine, inspect, pool

from alembic import command
from backend.db.migrate import alembic_config, include_name
from backend.db.models import Base
from tests.helpers import fresh_database

QUEUE_TABLES = {
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_workers",
    "procrastinate_periodic_defers",
}


def tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head_and_back(pg):
    url = fresh_database(pg, None)
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert tables(url) == set(Base.metadata.tables) | {"alembic_version"} | QUEUE_TABLES
    command.downgrade(config, "base")
    assert tables(url) == {"alembic_version"}
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= tables(url)


def test_models_and_migrations_agree(db_url):
    """Autogenerate finds nothing to do: the schema only changes through migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
