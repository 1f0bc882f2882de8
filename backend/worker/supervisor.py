"""A worker process's queue worker: runs batch jobs, keeps running through database restarts,
and gives back the jobs of workers that died.

procrastinate's worker stops itself when it cannot reach the database (its heartbeat fails);
this restarts it once the database answers. Jobs of a worker whose heartbeat has been silent
for WORKER_STALLED_SECONDS are requeued as new jobs (the dead worker's own job row is closed,
so a worker that was only cut off finds its job gone and stops: see gates.JobLease).
"""

import asyncio
import contextlib
import logging
import os
import socket

from procrastinate.worker import Worker

from backend.core import task_dump
from backend.core.config import Settings
from backend.db.session import read_pool
from backend.services.queue import BATCH_JOB, QUEUE
from backend.worker.batch import WorkerRuntime
from backend.worker.health import mark_alive
from backend.worker.queue_app import queue_app

logger = logging.getLogger(__name__)
# procrastinate logs every job's start and end at INFO: thousands of lines for one large task.
logging.getLogger("procrastinate").setLevel(logging.WARNING)
SHUTDOWN_GRACE_SECONDS = 2.0  # then running batches are handed back to the queue


_REQUEUE_STALLED = f"""
WITH stalled AS (
    SELECT j.id, j.priority, j.args
    FROM procrastinate_jobs j
    LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
    WHERE j.status = 'doing' AND j.task_name = '{BATCH_JOB}'
      AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %s))
    FOR UPDATE OF j SKIP LOCKED
), closed AS (
    UPDATE procrastinate_jobs j SET status = 'failed' FROM stalled WHERE j.id = stalled.id
)
SELECT coalesce(cardinality(procrastinate_defer_jobs_v1(array_agg(
    ROW('{QUEUE}', '{BATCH_JOB}', priority, NULL, NULL, args, NULL)
        ::procrastinate_job_to_defer_v1 ORDER BY id
))), 0)
FROM stalled
"""


async def requeue_stalled(stalled_seconds: float) -> int:
    """Give the jobs of silent workers to the queue again (one statement); how many."""
    async with read_pool().connection() as connection:
        cursor = await connection.execute(_REQUEUE_STALLED, (stalled_seconds,))
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


class QueueWorker:
    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.runtime = WorkerRuntime(settings)
        self._stopping = asyncio.Event()
        self._worker: Worker | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        task_dump.install()
        mark_alive()
        self._supervisor = asyncio.create_task(self._supervise(), name="queue-worker")
        self._sweeper = asyncio.create_task(self._sweep(), name="stalled-jobs")

    async def stop(self) -> None:
        self._stopping.set()
        if self._worker is not None:
            self._worker.stop()
        for task in (self._sweeper, self._supervisor):
            if task is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_GRACE_SECONDS + 5)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _supervise(self) -> None:
        stalled = self.settings.WORKER_STALLED_SECONDS
        delay = 0.5
        app = queue_app()
        while not self._stopping.is_set():
            try:
                async with app.open_async():
                    self._worker = Worker(
                        app,
                        queues=[QUEUE],
                        name=self.name,
                        concurrency=self.settings.WORKER_CONCURRENCY,
                        install_signal_handlers=False,
                        update_heartbeat_interval=stalled / 3,
                        stalled_worker_timeout=stalled,
                        abort_job_polling_interval=stalled / 3,
                        shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                        delete_jobs="successful",
                        additional_context={"runtime": self.runtime},
                    )
                    if self._stopping.is_set():
                        return
                    await self._worker.run()
                    delay = 0.5
            except Exception as exc:
                logger.warning("queue worker stopped; restarting", extra={"error": repr(exc)})
            finally:
                self._worker = None
            if not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 5.0)

    async def _sweep(self) -> None:
        stalled = self.settings.WORKER_STALLED_SECONDS
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), stalled / 3)
            if self._stopping.is_set():
                return
            try:
                requeued = await requeue_stalled(stalled)
            except Exception as exc:
                logger.debug("stalled-job sweep failed", extra={"error": repr(exc)})
                continue
            mark_alive()
            if requeued:
                logger.warning("requeued the jobs of a silent worker", extra={"jobs": requeued})
