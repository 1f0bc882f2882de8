"""The worker's liveness mark, kept light: the container health check imports only this (a check
that imported the worker itself, litellm and all, could take longer than its timeout)."""

import tempfile
import time
from pathlib import Path

# Touched after each successful sweep of the queue (supervisor.py): the database answered.
ALIVE_FILE = Path(tempfile.gettempdir()) / "backend-worker.alive"


def mark_alive() -> None:
    ALIVE_FILE.touch()


def alive(stalled_seconds: float) -> bool:
    """A worker of this host reached the database within `stalled_seconds`."""
    try:
        return time.time() - ALIVE_FILE.stat().st_mtime < stalled_seconds
    except OSError:
        return False
