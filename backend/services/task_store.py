"""What a running batch writes: one statement per round or failure, committed at once; and
how a task ends (the last batch completes it; a credential error or the budget stops it)."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from backend.core.redact import redact
from backend.core.vocabulary import (
    ACTIVE_SAMPLE_STATUSES,
    ACTIVE_TASK_STATUSES,
    EarlyStopReason,
    SampleStatus,
    TaskStatus,
    sql_in,
)
from backend.db.models import CallSlot, Prediction, Sample, Task
from backend.db.session import get_engine
from backend.services import intervals, queue
from backend.services.rounds import pack_messages
from backend.workflow.errors import PredictionError
from backend.workflow.predictors import Answer


@dataclass
class ResumePoint:
    """An unfinished sample and the rounds it already has."""

    sample_index: int
    history: list[dict[str, float]] = field(default_factory=list)


def load_unfinished(session: Session, task_id: int, indices: list[int]) -> list[ResumePoint]:
    """Which of `indices` are unfinished, with the rounds each already has."""
    unfinished = session.scalars(
        select(Sample.sample_index)
        .where(
            Sample.task_id == task_id,
            Sample.sample_index.in_(indices),
            Sample.status.in_(ACTIVE_SAMPLE_STATUSES),
        )
        .order_by(Sample.sample_index)
    ).all()
    points = {i: ResumePoint(i) for i in unfinished}
    if not points:
        return []
    rows = session.execute(
        select(Prediction.sample_index, Prediction.values)
        .where(Prediction.task_id == task_id, Prediction.sample_index.in_(list(points)))
        .order_by(Prediction.sample_index, Prediction.iteration)
    ).all()
    for index, values in rows:
        points[index].history.append(values)
    return list(points.values())


# Writes of every running batch share these threads, so the event loop stays free for the calls
# in flight and a burst of answers does not queue behind other work of the default executor.
_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="task-store")

_ACTIVE = sql_in(ACTIVE_SAMPLE_STATUSES)
WRITE_PATIENCE_SECONDS = 60.0
# One statement per round (data-modifying CTEs) in autocommit: durable the moment it returns, one
# round trip. ON CONFLICT keeps the first answer when a resumed batch re-asks a round that was in
# flight at a crash; the sample moves on only while unfinished (a cancel may have closed it);
# the task's usage counters (and the budget's measure) grow with what this round cost.
_SAVE_ROUND = text(
    f"""
    WITH stored AS (
        INSERT INTO predictions (task_id, sample_index, iteration, "values", raw_response,
                                 prompt_tokens, completion_tokens, cost_usd, latency_ms, attempts,
                                 messages_zlib, reasoning, cached)
        VALUES (:task_id, :sample_index, :iteration, CAST(:values AS json), :raw_response,
                :prompt_tokens, :completion_tokens, :cost_usd, :latency_ms, :attempts,
                :messages_zlib, CAST(:reasoning AS json), :cached)
        ON CONFLICT ON CONSTRAINT uq_prediction_round DO NOTHING
        RETURNING 1
    ), counted AS (
        UPDATE tasks
        SET llm_calls = llm_calls + :calls, cache_hits = cache_hits + :hits,
            prompt_tokens = prompt_tokens + :paid_prompt_tokens,
            completion_tokens = completion_tokens + :paid_completion_tokens,
            spent_usd = spent_usd + :paid_usd
        WHERE id = :task_id AND (:calls > 0 OR :hits > 0) AND EXISTS (SELECT 1 FROM stored)
    )
    UPDATE samples
    SET iterations_done = :iteration, status = :status, converged_at_iteration = :converged_at
    WHERE task_id = :task_id AND sample_index = :sample_index AND status IN {_ACTIVE}
    """
)
_SAVE_FAILURE = text(
    f"""
    WITH recorded AS (
        INSERT INTO failures (task_id, sample_index, iteration, error_type, message, attempts,
                              messages_zlib)
        VALUES (:task_id, :sample_index, :iteration, :error_type, :message, :attempts,
                :messages_zlib)
    ), counted AS (
        UPDATE tasks SET llm_calls = llm_calls + :attempts WHERE id = :task_id AND :attempts > 0
    )
    UPDATE samples SET status = '{SampleStatus.FAILED}'
    WHERE task_id = :task_id AND sample_index = :sample_index AND status IN {_ACTIVE}
    """
)


def store_retrieved(
    session: Session,
    task_id: int,
    neighbours: dict[int, Any],
    calibration: dict[str, Any] | None = None,
) -> None:
    """What a batch retrieved for its new samples (their nearest references) and, for a
    baseline task, its intervals (set once, by whichever batch comes first). The task row is
    locked first, as `stop` locks it before the samples: a cancel meanwhile waits, it cannot
    deadlock with this."""
    session.execute(select(Task.id).where(Task.id == task_id).with_for_update(key_share=True))
    if calibration:
        session.execute(
            update(Task)
            .where(Task.id == task_id, Task.calibration.is_(None))
            .values(calibration=calibration)
        )
    if neighbours:
        session.execute(
            update(Sample),
            [
                {"task_id": task_id, "sample_index": index, "neighbours": pairs}
                for index, pairs in neighbours.items()
            ],
        )


class TaskStore:
    """The graph's RoundSink for one task."""

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        self._engine = get_engine().execution_options(isolation_level="AUTOCOMMIT")

    async def save_round(
        self,
        sample_index: int,
        iteration: int,
        answer: Answer,
        status: SampleStatus,
        converged_at: int | None,
    ) -> None:
        await self._write(
            _SAVE_ROUND,
            sample_index=sample_index,
            iteration=iteration,
            values=json.dumps(answer.values),
            raw_response=answer.raw,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
            latency_ms=answer.latency_ms,
            attempts=answer.attempts,
            messages_zlib=pack_messages(answer.messages),
            reasoning=None if answer.reasoning is None else json.dumps(answer.reasoning),
            cached=answer.cached,
            calls=0 if answer.cached or answer.messages is None else answer.attempts,
            hits=1 if answer.cached else 0,
            paid_prompt_tokens=0 if answer.cached else answer.prompt_tokens or 0,
            paid_completion_tokens=0 if answer.cached else answer.completion_tokens or 0,
            paid_usd=0.0 if answer.cached else answer.cost_usd or 0.0,
            status=status,
            converged_at=converged_at,
        )

    async def save_failure(self, sample_index: int, iteration: int, error: PredictionError) -> None:
        await self._write(
            _SAVE_FAILURE,
            sample_index=sample_index,
            iteration=iteration,
            error_type=error.error_type,
            message=error.message[:2000],
            attempts=error.attempts,
            messages_zlib=pack_messages(error.messages),
        )

    async def _write(self, statement: TextClause, **params: Any) -> None:
        """Write, waiting out a database restart: an answer paid for is not given up lightly.
        After WRITE_PATIENCE_SECONDS the error propagates and the batch is retried later."""
        params["task_id"] = self.task_id

        def run() -> None:
            with self._engine.connect() as connection:
                connection.execute(statement, params)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + WRITE_PATIENCE_SECONDS
        delay = 0.1
        while True:
            try:
                await loop.run_in_executor(_WRITERS, run)
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated and not isinstance(exc, OperationalError):
                    raise
                if loop.time() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


def mark_running(session: Session, task_id: int) -> bool:
    """pending → running (or stays running). False once the task is over (e.g. cancelled)."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(ACTIVE_TASK_STATUSES))
        .values(status=TaskStatus.RUNNING, started_at=func.coalesce(Task.started_at, func.now()))
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult


# The last batch to finish closes the task; any batch may try (only one changes the row). A task
# completes when its calibration samples are done too; its early_stop_reason speaks of its test
# samples only.
_FINISH_IF_DONE = text(
    f"""
    UPDATE tasks t
    SET status = '{TaskStatus.COMPLETED}', completed_at = now(),
        early_stop_reason = CASE
            WHEN NOT t.early_stop OR EXISTS (
                SELECT 1 FROM samples s
                WHERE s.task_id = t.id AND NOT s.calibration
                  AND s.status = '{SampleStatus.NOT_CONVERGED}'
            ) THEN '{EarlyStopReason.MAX_ITERATIONS_REACHED}'
            WHEN EXISTS (
                SELECT 1 FROM samples s
                WHERE s.task_id = t.id AND NOT s.calibration
                  AND s.status = '{SampleStatus.CONVERGED}'
            ) THEN '{EarlyStopReason.ALL_SAMPLES_CONVERGED}'
        END  -- NULL: every sample failed
    WHERE t.id = :task_id AND t.status IN {sql_in(ACTIVE_TASK_STATUSES)}
      AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.task_id = t.id AND s.status IN {_ACTIVE})
    RETURNING t.calibration_samples, t.target_properties
    """
)
# Each calibration sample that did not fail: its measured values and its final prediction.
_CALIBRATION_FINALS = text(
    f"""
    SELECT s.truth, p."values"
    FROM samples s
    JOIN LATERAL (
        SELECT p."values" FROM predictions p
        WHERE p.task_id = s.task_id AND p.sample_index = s.sample_index
        ORDER BY p.iteration DESC LIMIT 1
    ) p ON TRUE
    WHERE s.task_id = :task_id AND s.calibration AND s.status <> '{SampleStatus.FAILED}'
    ORDER BY s.sample_index
    """
)


def finish_if_done(session: Session, task_id: int) -> bool:
    """Complete the task once no sample is unfinished (calibration samples included); True if
    this call completed it. An LLM task with calibration samples gets its intervals here."""
    row = session.execute(_FINISH_IF_DONE, {"task_id": task_id}).first()
    if row is None:
        return False
    release_task_slots(session, task_id)
    requested, targets = row
    if requested:
        store_llm_calibration(session, task_id, list(targets), requested)
    return True


def store_llm_calibration(
    session: Session, task_id: int, targets: list[str], requested: int
) -> dict[str, Any]:
    """task.calibration from the calibration samples' final predictions (split-conformal, as
    backend/services/intervals.py computes it); from then on every reader gives intervals."""
    finals = [
        (truth, values)
        for truth, values in session.execute(_CALIBRATION_FINALS, {"task_id": task_id})
        if truth
    ]
    calibration = intervals.llm_calibration(targets, finals, requested)
    session.execute(update(Task).where(Task.id == task_id).values(calibration=calibration))
    return calibration


def release_task_slots(session: Session, task_id: int) -> None:
    """An ended task's call slots (worker/gates.py TaskSlots) are not needed any more."""
    session.execute(delete(CallSlot).where(CallSlot.key == f"task:{task_id}"))


def stop(
    session: Session,
    task_id: int,
    *,
    status: TaskStatus,
    reason: EarlyStopReason | None,
    error: str | None = None,
    spare_job: int = -1,
) -> bool:
    """End a task early (credentials rejected, budget spent): its unfinished samples end
    not_converged and its other jobs are cancelled. False if it had already ended."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(ACTIVE_TASK_STATUSES))
        .values(status=status, error=error, early_stop_reason=reason, completed_at=func.now())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    close_unfinished_samples(session, task_id)
    queue.cancel_jobs(session, task_id, spare_job)
    release_task_slots(session, task_id)
    return True


def close_unfinished_samples(session: Session, task_id: int) -> None:
    """A stopped task's unstarted or interrupted samples end not_converged (retry continues
    them): one statement, nothing done per sample."""
    session.execute(
        update(Sample)
        .where(Sample.task_id == task_id, Sample.status.in_(ACTIVE_SAMPLE_STATUSES))
        .values(status=SampleStatus.NOT_CONVERGED)
    )


def fail(session: Session, task_id: int, error: str, spare_job: int = -1) -> bool:
    return stop(
        session,
        task_id,
        status=TaskStatus.FAILED,
        reason=None,
        error=redact(error),
        spare_job=spare_job,
    )
