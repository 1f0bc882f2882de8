"""Engine and sessions. One engine per process, created at start-up by `init_engine`."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from backend.core.config import Settings
from backend.db.embedded import ensure_server

# psycopg parses JSON columns itself: with orjson, large histories load several times faster.
set_json_loads(orjson.loads)

_engine: Engine | None = None
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
