"""`kill -USR2 PID` logs where every asyncio task of a worker (or of the API's embedded worker)
is waiting: for a process that looks stuck without an error to show for it. SIGUSR2, as gunicorn
keeps SIGUSR1 for its workers' log files."""

import asyncio
import contextlib
import io
import logging
import signal

logger = logging.getLogger("backend.tasks")
SIGNAL = signal.SIGUSR2


def log_tasks() -> None:
    tasks = sorted(asyncio.all_tasks(), key=lambda t: t.get_name())
    stacks = io.StringIO()
    for task in tasks:
        stacks.write(f"{task!r}\n")
        task.print_stack(limit=25, file=stacks)
    logger.warning("asyncio tasks", extra={"tasks": len(tasks), "stacks": stacks.getvalue()})


def install() -> None:
    """On the running loop, where it runs in the main thread (not in an in-process test's)."""
    with contextlib.suppress(ValueError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(SIGNAL, log_tasks)
