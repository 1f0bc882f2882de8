"""Engine and sessions. One engine per process, created at start-up by `init_engine`."""

from collections.abc import Iterator

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from backend.core.config import Settings
from backend.db.embedded import ensure_server

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


def init_engine(settings: Settings) -> Engine:
    global _engine
    if _engine is None:
        _engine = create_engine(
            database_url(settings),
            pool_size=10,
            max_overflow=30,
            pool_pre_ping=True,
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


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session
