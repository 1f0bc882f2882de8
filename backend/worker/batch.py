"""One job of the queue: a batch of one task's samples, each through its own graph.

A batch reads its task and its samples' stored rounds, runs what is unfinished, and ends: the
batch that leaves no unfinished sample behind completes the task. A credential error or a spent
budget stops the whole task (its other jobs are cancelled). Everything a batch does is
idempotent: a batch run again (after a crash, or a retry) continues from the stored rounds.
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from backend.core.config import Settings
from backend.core.errors import DatasetUnreadable, InvalidConfig
from backend.core.logging import log_context
from backend.core.vocabulary import EarlyStopReason, Provider, TaskStatus
from backend.db.models import Sample, Task
from backend.db.session import unit_of_work
from backend.services import csv_files, intervals, task_store
from backend.services.answer_cache import answer_cache
from backend.services.paths import resolve_data_path
from backend.services.provider_limits import provider_gate
from backend.worker.gates import Budget, JobLease, TaskSlots
from backend.workflow.calls import CallGate
from backend.workflow.convergence import sample_converged_at
from backend.workflow.errors import TaskAuthError
from backend.workflow.graph import LoopRules, build_sample_graph, recursion_limit
from backend.workflow.predictors import BaselinePredictor, LlmPredictor, Predictor, RunLimits
from backend.workflow.retrieval import ReferenceIndex, split_feature_kinds
from backend.workflow.task_data import (
    ReferencePart,
    SampleInput,
    TaskData,
    TaskDataError,
    batch_data,
    calibration_neighbours,
    retrieve,
    shared_reference_part,
)

logger = logging.getLogger(__name__)
LOOPS_PER_SLOT = 2
# Errors of a database that is restarting or unreachable (through SQLAlchemy or psycopg itself).
DATABASE_AWAY = (DBAPIError, psycopg.OperationalError, psycopg.InterfaceError)


class ReferenceCache:
    """Reference parts by file identity: the batches of a task read its reference file once per
    worker, not once per batch. Bounded; a changed file is a new entry."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._parts: OrderedDict[tuple[Any, ...], ReferencePart] = OrderedDict()

    def get(self, path: Path, targets: list[str], features: list[str], id_column: str | None):
        stat = path.stat()
        key = (
            str(path),
            stat.st_mtime_ns,
            stat.st_size,
            tuple(targets),
            tuple(features),
            id_column,
        )
        part = self._parts.get(key)
        if part is None:
            try:
                frame = csv_files.read(path)
            except csv_files.CsvError as exc:
                raise DatasetUnreadable(f"reference_file_path: {exc}") from exc
            part = shared_reference_part(frame, targets, features, id_column)
            self._parts[key] = part
            while len(self._parts) > self._size:
                self._parts.popitem(last=False)
        self._parts.move_to_end(key)
        return part


@dataclass
class TaskShare:
    """What the running batches of one task share in this process."""

    local: asyncio.Semaphore
    shared: TaskSlots
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)  # see JobLease
    users: int = 0


@dataclass
class WorkerRuntime:
    """What the jobs of one worker process share."""

    settings: Settings
    references: ReferenceCache = field(default_factory=ReferenceCache)
    # The task's own `max_workers` bounds its calls in flight across its batches: here in this
    # process (a semaphore), and across workers (leases in PostgreSQL). One of each per task.
    task_slots: dict[int, TaskShare] = field(default_factory=dict)

    @contextlib.contextmanager
    def slots_for(self, task: Task) -> Iterator[TaskShare]:
        share = self.task_slots.get(task.id) or TaskShare(
            asyncio.Semaphore(task.max_workers),
            TaskSlots(task.id, task.max_workers, self.settings.WORKER_STALLED_SECONDS),
        )
        self.task_slots[task.id] = share
        share.users += 1
        try:
            yield share
        finally:
            share.users -= 1
            if share.users == 0:
                del self.task_slots[task.id]


@dataclass
class StoredSample:
    input: SampleInput
    neighbours: list[list[float]] | None  # None until a batch has retrieved them
    calibration: bool


@dataclass
class Loaded:
    task: Task
    points: list[task_store.ResumePoint]
    samples: dict[int, StoredSample]


def _load(task_id: int, indices: list[int]) -> Loaded | None:
    with unit_of_work() as session:
        task = session.get(Task, task_id)
        if task is None or not task_store.mark_running(session, task_id):
            return None  # gone, or over (cancelled, stopped)
        points = task_store.load_unfinished(session, task_id, indices)
        rows = session.execute(
            select(Sample).where(
                Sample.task_id == task_id,
                Sample.sample_index.in_([p.sample_index for p in points]),
            )
        ).scalars()
        samples = {
            s.sample_index: StoredSample(
                SampleInput(s.sample_index, s.sample_id, s.composition, s.truth),
                s.neighbours,
                s.calibration,
            )
            for s in rows
        }
        session.expunge(task)
        return Loaded(task, points, samples)


def _retrieve(
    task: Task, index: ReferenceIndex, features: list[str], new: list[StoredSample], top_k: int
) -> dict[int, list[list[float]]]:
    """New samples' nearest references by sample_index: a test sample's from its inputs, a
    calibration sample's leave-one-out (its own reference row left out)."""
    found: dict[int, list[list[float]]] = {}
    tests = [s.input for s in new if not s.calibration]
    if tests:
        found |= zip([s.index for s in tests], retrieve(index, features, tests, top_k), strict=True)
    extra = [s.input.index for s in new if s.calibration]
    if extra:
        positions = [i - task.total_samples for i in extra]
        pairs = calibration_neighbours(index, task.calibration_samples, positions, top_k)
        found |= zip(extra, pairs, strict=True)
    return found


def _end(task_id: int, *, job_id: int, error: str | None = None, budget: bool = False) -> None:
    """Fail the task (`error`), stop it for its budget, or complete it if nothing is left."""
    with unit_of_work() as session:
        if error:
            task_store.fail(session, task_id, error, spare_job=job_id)
        elif budget:
            task_store.stop(
                session,
                task_id,
                status=TaskStatus.COMPLETED,
                reason=EarlyStopReason.BUDGET_EXHAUSTED,
                spare_job=job_id,
            )
        else:
            task_store.finish_if_done(session, task_id)


async def _stopped(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until they have ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _all_or_none(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run the coroutines together; the first error cancels the others and is raised once they
    have ended. (asyncio.gather would leave them running: a sample loop outliving its batch holds
    its task's call slot, waiting for a job lease nobody renews, and starves the task's other
    batches in this process.)"""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        await _stopped(tasks)  # none left if all ended; else an error, or this batch's cancel
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


class BatchRun:
    def __init__(
        self,
        runtime: WorkerRuntime,
        task_id: int,
        indices: list[int],
        job_id: int,
        worker_id: int | None,
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.task_id = task_id
        self.indices = indices
        self.job_id = job_id
        self.lease = JobLease(job_id, worker_id, self.settings.WORKER_STALLED_SECONDS)

    async def run(self) -> None:
        with log_context(task_id=self.task_id, job_id=self.job_id):
            loaded = await asyncio.to_thread(_load, self.task_id, self.indices)
            if loaded is None:
                return
            logger.info("batch started", extra={"samples": len(loaded.points)})
            try:
                error, budget = await self._run_samples(loaded) if loaded.points else (None, False)
            except (DatasetUnreadable, InvalidConfig, TaskDataError) as exc:
                error = f"cannot read the task's data: {exc}"
                await asyncio.to_thread(_end, self.task_id, job_id=self.job_id, error=error)
                return
            except (asyncio.CancelledError, *DATABASE_AWAY):
                raise  # cancelled or aborted; the database is away: the queue retries it
            except Exception as exc:
                logger.exception("batch crashed")
                error = f"internal error: {type(exc).__name__}: {exc}"
                await asyncio.to_thread(_end, self.task_id, job_id=self.job_id, error=error)
                return
            if self.lease.lost.is_set():
                return  # another worker runs these samples now
            logger.info("batch done", extra={"samples": len(loaded.points)})
            await asyncio.to_thread(
                _end, self.task_id, job_id=self.job_id, error=error, budget=budget
            )

    def _data(self, task: Task, loaded: Loaded) -> TaskData:
        """The batch's TaskData. Samples run for the first time are retrieved here (and stored:
        never again); a baseline task's intervals likewise."""
        config = task.config
        path = resolve_data_path(
            self.settings.DATA_DIR, config["reference_file_path"], "reference_file_path"
        )
        targets = list(task.target_properties)
        features = list(config.get("features") or config.get("feature_columns") or [])
        part = self.runtime.references.get(path, targets, features, config.get("id_column"))
        samples = [loaded.samples[p.sample_index] for p in loaded.points]
        new = [s for s in samples if s.neighbours is None]
        baseline_intervals = task.llm_provider == Provider.BASELINE and task.calibration is None
        if new or baseline_intervals:
            # Tasks started before feature kinds were stored: as the reference file has them.
            kinds = config.get("feature_kinds")
            if kinds is None:
                numeric, categorical = split_feature_kinds(part.frame, features)
                kinds = {"numeric": numeric, "categorical": categorical}
            index = part.index(kinds["numeric"], kinds["categorical"])
            top_k = config.get("reference_top_k", 5)
            retrieved = _retrieve(task, index, features, new, top_k)
            calibration = (
                intervals.baseline_calibration(index, part, targets, top_k)
                if baseline_intervals
                else None
            )
            with unit_of_work() as session:
                task_store.store_retrieved(session, task.id, retrieved, calibration)
            for sample in new:
                sample.neighbours = retrieved[sample.input.index]
        return batch_data(
            part,
            targets,
            features,
            [s.input for s in samples],
            [s.neighbours or [] for s in samples],
        )

    async def _run_samples(self, loaded: Loaded) -> tuple[str | None, bool]:
        """Run every unfinished sample; (credential error, budget spent)."""
        task = loaded.task
        data = await asyncio.to_thread(self._data, task, loaded)
        rules = LoopRules(
            targets=list(task.target_properties),
            max_iterations=task.max_iterations,
            threshold=task.convergence_threshold,
            early_stop=task.early_stop,
        )
        budget = Budget(task.id, task.max_cost_usd) if task.max_cost_usd else None
        cancelled = asyncio.Event()
        auth_errors: list[str] = []
        keeper = asyncio.create_task(self.lease.keep(), name=f"lease-{self.job_id}")
        lost = asyncio.create_task(self._cancel_when_lost(cancelled))
        try:
            with self.runtime.slots_for(task) as share:
                self.lease.interrupted = share.interrupted
                limits = RunLimits(share.local, cancelled)
                predictor = self._predictor(task, data, budget, share.shared)
                graph = build_sample_graph(predictor, task_store.TaskStore(task.id), limits, rules)

                async def run_sample(position: int, point: task_store.ResumePoint) -> None:
                    state: dict[str, Any] = {
                        "position": position,
                        "sample_index": point.sample_index,
                        "history": point.history,
                        # A resumed sample may have converged already (no early stop: goes on).
                        "converged_at": sample_converged_at(
                            point.history, rules.targets, rules.threshold
                        ),
                        "answer": None,
                        "outcome": None,
                    }
                    try:
                        with log_context(sample_index=point.sample_index):
                            await graph.ainvoke(state, {"recursion_limit": recursion_limit(rules)})
                    except TaskAuthError as exc:
                        auth_errors.append(str(exc))

                # A bounded pool of sample loops pulls the next sample when one finishes: twice
                # max_workers keeps every call slot busy.
                pending = iter(enumerate(loaded.points))

                async def loop_worker() -> None:
                    for position, point in pending:
                        if cancelled.is_set() or (budget and budget.exhausted):
                            return  # nothing is done for samples after a stop
                        await run_sample(position, point)

                loops = min(len(loaded.points), LOOPS_PER_SLOT * task.max_workers)
                await _all_or_none([loop_worker() for _ in range(loops)])
        finally:
            self.lease.done()
            await _stopped([keeper, lost])
        error = None
        if auth_errors:
            error = f"the LLM provider rejected the credentials: {auth_errors[0][:300]}"
        return error, bool(budget and budget.exhausted)

    async def _cancel_when_lost(self, cancelled: asyncio.Event) -> None:
        await self.lease.lost.wait()
        cancelled.set()

    def _predictor(
        self, task: Task, data: TaskData, budget: Budget | None, shared_slots: TaskSlots
    ) -> Predictor:
        if task.llm_provider == Provider.BASELINE:
            return BaselinePredictor(data)
        # In this order: nothing is held while waiting for an earlier gate (a provider slot is
        # not taken while the task waits for one of its own).
        gates: list[CallGate] = [self.lease]
        if budget is not None:
            gates.append(budget)
        if len(self.indices) < task.total_samples + task.calibration_samples:
            # Other batches of the task may run in other workers: its max_workers is shared
            # through leases. A task of one batch is bounded by this process's semaphore alone.
            gates.append(shared_slots)
        gates.append(provider_gate(self.settings, task.llm_provider, task.llm_model))
        return LlmPredictor(
            data,
            self.settings,
            provider=task.llm_provider,
            model=task.llm_model,
            temperature=task.temperature,
            max_rounds=task.max_iterations,
            threshold=task.convergence_threshold,
            gates=gates,
            cache=answer_cache(self.settings),
        )
