"""Runs tasks in the API process: claims unfinished tasks, runs every sample's graph, closes them.

A task is run by whichever process holds its PostgreSQL advisory lock. The lock is tied to a
connection, so a process that dies (even by SIGKILL) frees its tasks, and the next claim pass of
any worker resumes them from the stored rows. Several gunicorn workers never run one task twice.
"""

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import Connection, create_engine, pool, select, text

from backend.core.config import Settings
from backend.core.errors import InvalidConfig
from backend.core.logging import log_context
from backend.core.vocabulary import ACTIVE_TASK_STATUSES, Provider
from backend.db.models import Task
from backend.db.session import SessionLocal, get_engine
from backend.services import task_store
from backend.services.tasks import prepare_task_data
from backend.workflow.convergence import sample_converged_at
from backend.workflow.errors import TaskAuthError
from backend.workflow.graph import LoopRules, build_sample_graph, recursion_limit
from backend.workflow.predictors import (
    BaselinePredictor,
    LlmPredictor,
    Predictor,
    RunLimits,
)
from backend.workflow.task_data import TaskData

logger = logging.getLogger(__name__)
LOCK_CLASS = 7_314  # first key of the two-key advisory lock; the task id is the second
LOOPS_PER_SLOT = 2


class TaskRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: dict[int, asyncio.Task[None]] = {}
        self._cancel_flags: dict[int, asyncio.Event] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._claimer: asyncio.Task[None] | None = None
        self._lock_engine = create_engine(get_engine().url, poolclass=pool.NullPool)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._claimer = asyncio.create_task(self._claim_forever(), name="task-claimer")

    async def stop(self) -> None:
        """Stop without touching task status: unfinished tasks resume on the next start."""
        tasks = [t for t in (self._claimer, *self._running.values()) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._lock_engine.dispose()

    def wake(self) -> None:
        """Look for new work now (thread-safe: routes run in a thread pool)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def cancel(self, task_id: int) -> None:
        flag = self._cancel_flags.get(task_id)
        if flag is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(flag.set)

    @property
    def running_task_ids(self) -> list[int]:
        return list(self._running)

    # -- claiming ----------------------------------------------------------------------------

    async def _claim_forever(self) -> None:
        while True:
            try:
                await self._claim_pass()
            except Exception:
                logger.exception("claim pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.RESUME_POLL_SECONDS)
            self._wake.clear()

    async def _claim_pass(self) -> None:
        candidates = await asyncio.to_thread(self._unfinished_task_ids)
        for task_id in candidates:
            if task_id in self._running:
                continue
            lock = await asyncio.to_thread(self._try_lock, task_id)
            if lock is None:
                continue  # another process runs it
            self._running[task_id] = asyncio.create_task(
                self._run_locked(task_id, lock), name=f"task-{task_id}"
            )

    @staticmethod
    def _unfinished_task_ids() -> list[int]:
        with SessionLocal() as session:
            return list(
                session.scalars(
                    select(Task.id).where(Task.status.in_(ACTIVE_TASK_STATUSES)).order_by(Task.id)
                )
            )

    def _try_lock(self, task_id: int) -> Connection | None:
        connection = self._lock_engine.connect()
        locked = connection.execute(
            text("SELECT pg_try_advisory_lock(:c, :t)"), {"c": LOCK_CLASS, "t": task_id}
        ).scalar()
        connection.commit()
        if not locked:
            connection.close()
            return None
        return connection

    async def _run_locked(self, task_id: int, lock: Connection) -> None:
        try:
            await self._run(task_id)
        except asyncio.CancelledError:
            raise
        except InvalidConfig as exc:  # its files are gone, or no longer fit its configuration
            await asyncio.to_thread(_finish, task_id, f"cannot read the task's data: {exc}")
        except Exception as exc:
            logger.exception("task %s crashed", task_id)
            await asyncio.to_thread(
                _finish, task_id, f"internal error: {type(exc).__name__}: {exc}"
            )
        finally:
            self._running.pop(task_id, None)
            self._cancel_flags.pop(task_id, None)
            await asyncio.to_thread(lock.close)  # closing the session frees the advisory lock

    # -- running -----------------------------------------------------------------------------

    async def _run(self, task_id: int) -> None:
        # In a thread: marking it running may wait for a request's transaction on the same row
        # (a cancel), and that request needs the event loop to finish.
        claimed = await asyncio.to_thread(_mark_running, task_id)
        if claimed is None:
            return
        task, points = claimed
        if points:
            logger.info("task %s: running %d samples", task_id, len(points))
            cancelled = asyncio.Event()
            self._cancel_flags[task_id] = cancelled
            watcher = asyncio.create_task(self._watch_cancel(task_id, cancelled))
            try:
                auth_errors = await self._run_samples(task, points, cancelled)
            finally:
                watcher.cancel()
        else:
            auth_errors = []
        error = None
        if auth_errors:
            error = f"the LLM provider rejected the credentials: {auth_errors[0][:300]}"
        await asyncio.to_thread(_finish, task_id, error)
        logger.info("task %s: finished", task_id)

    async def _run_samples(
        self, task: Task, points: list[task_store.ResumePoint], cancelled: asyncio.Event
    ) -> list[str]:
        """Every unfinished sample through its own graph; returns rejected-credential errors."""
        indices = [p.sample_index for p in points]
        data = await asyncio.to_thread(prepare_task_data, self.settings, task.config, indices)
        rules = LoopRules(
            targets=list(task.target_properties),
            max_iterations=task.max_iterations,
            threshold=task.convergence_threshold,
            early_stop=task.early_stop,
        )
        limits = RunLimits(asyncio.Semaphore(task.max_workers), cancelled)
        graph = build_sample_graph(
            self._predictor(task, data), task_store.TaskStore(task.id), limits, rules
        )
        auth_errors: list[str] = []

        async def run_sample(position: int, point: task_store.ResumePoint) -> None:
            state: dict[str, Any] = {
                "position": position,
                "sample_index": point.sample_index,
                "history": point.history,
                # A resumed sample may have converged already (without early stop it goes on).
                "converged_at": sample_converged_at(point.history, rules.targets, rules.threshold),
                "answer": None,
                "outcome": None,
            }
            try:
                with log_context(task_id=task.id, sample_index=point.sample_index):
                    await graph.ainvoke(state, {"recursion_limit": recursion_limit(rules)})
            except TaskAuthError as exc:
                auth_errors.append(str(exc))

        # Each sample loops on its own; a bounded pool of loops pulls the next sample when one
        # finishes. Twice max_workers keeps every call slot busy without holding a graph for
        # each of 10 000 samples in memory at once.
        pending = iter(enumerate(points))

        async def loop_worker() -> None:
            for position, point in pending:
                await run_sample(position, point)

        loops = min(len(points), LOOPS_PER_SLOT * task.max_workers)
        await asyncio.gather(*(loop_worker() for _ in range(loops)))
        return auth_errors

    def _predictor(self, task: Task, data: TaskData) -> Predictor:
        if task.llm_provider == Provider.BASELINE:
            return BaselinePredictor(data)
        return LlmPredictor(
            data,
            self.settings,
            provider=task.llm_provider,
            model=task.llm_model,
            temperature=task.temperature,
            max_rounds=task.max_iterations,
            threshold=task.convergence_threshold,
        )

    async def _watch_cancel(self, task_id: int, cancelled: asyncio.Event) -> None:
        """A cancel may arrive at another worker: re-read the status now and then."""
        while not cancelled.is_set():
            await asyncio.sleep(self.settings.CANCEL_POLL_SECONDS)
            if await asyncio.to_thread(_is_cancelled, task_id):
                cancelled.set()


def _mark_running(task_id: int) -> tuple[Task, list[task_store.ResumePoint]] | None:
    with SessionLocal() as session:
        task = session.get(Task, task_id)
        if task is None or not task_store.mark_running(session, task_id):
            return None
        return task, task_store.load_unfinished(session, task_id)


def _finish(task_id: int, error: str | None) -> None:
    with SessionLocal() as session:
        task_store.finish(session, task_id, error)


def _is_cancelled(task_id: int) -> bool:
    with SessionLocal() as session:
        return task_store.is_cancelled(session, task_id)
