"""Engine and sessions. One engine per process, created at start-up by `init_engine`; and, for
the hot read paths (who is asking, a task's status, its history), an async psycopg pool: those
reads are one prepared statement each, awaited on the event loop without a thread hop or ORM."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from backend.core.config import Settings
from backend.db.embedded import ensure_server

# psycopg parses JSON columns itself: with orjson, large histories load several times faster.
set_json_loads(orjson.loads)

_engine: Engine | None = None
_read_pool: AsyncConnectionPool | None = None
SessionLocal = sessionmaker(expire_on_commit=False)


def database_url(settings: Settings) -> str:
    if settings.DATABASE_URL:
        url = settings.DATABASE_URL
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return ensure_server(settings.DATA_DIR)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def init_engine(settings: Settings) -> Engine:
    global _engine
    if _engine is None:
        _engine = create_engine(
            database_url(settings),
            json_serializer=_dumps,
            pool_size=10,
            max_overflow=30,
            # No ping per checkout (a full round trip on every request): a connection broken by
            # a database restart fails once, the pool is invalidated, and that request gets 503.
            pool_pre_ping=False,
            pool_timeout=10,
        )
        SessionLocal.configure(bind=_engine)
    return _engine


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


def dispose_engine() -> None:
    global _engine
    if _engine is not None:
        _engine.dispose()
        _engine = None


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: services flush, this commits once at the end, or rolls back if
    anything raised. What an action records (its audit event) commits with it or not at all."""
    with SessionLocal.begin() as session:
        yield session


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's transaction has committed (never if it rolls back):
    whatever it wakes must see the committed rows."""
    event.listen(session, "after_commit", lambda _: callback(), once=True)


def get_session() -> Iterator[Session]:
    """The request's unit of work (a route dependency): committed before the response goes."""
    with unit_of_work() as session:
        yield session


async def open_read_pool(size: int = 10) -> AsyncConnectionPool:
    """The async pool on the engine's database (call after `init_engine`). Autocommit: every
    read is a single statement, so it sees one snapshot without holding a transaction open."""
    global _read_pool
    if _read_pool is None:
        url = get_engine().url.set(drivername="postgresql")
        pool = AsyncConnectionPool(
            url.render_as_string(hide_password=False),
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True},
            timeout=10,
            open=False,
        )
        await pool.open(wait=True)
        _read_pool = pool
    return _read_pool


def read_pool() -> AsyncConnectionPool:
    if _read_pool is None:
        raise RuntimeError("read pool not open")
    return _read_pool


async def close_read_pool() -> None:
    global _read_pool
    if _read_pool is not None:
        await _read_pool.close()
        _read_pool = None
