"""What a running task writes: one transaction per round or failure, committed at once."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, func, select, text, update
from sqlalchemy.orm import Session

from backend.core.vocabulary import (
    ACTIVE_SAMPLE_STATUSES,
    ACTIVE_TASK_STATUSES,
    EarlyStopReason,
    SampleStatus,
    TaskStatus,
)
from backend.db.models import Prediction, Sample, Task
from backend.db.session import get_engine
from backend.services.rounds import pack_messages
from backend.workflow.errors import PredictionError
from backend.workflow.predictors import Answer


@dataclass
class ResumePoint:
    """An unfinished sample and the rounds it already has."""

    sample_index: int
    history: list[dict[str, float]] = field(default_factory=list)


def load_unfinished(session: Session, task_id: int) -> list[ResumePoint]:
    indices = session.scalars(
        select(Sample.sample_index)
        .where(Sample.task_id == task_id, Sample.status.in_(ACTIVE_SAMPLE_STATUSES))
        .order_by(Sample.sample_index)
    ).all()
    points = {i: ResumePoint(i) for i in indices}
    if not points:
        return []
    rows = session.execute(
        select(Prediction.sample_index, Prediction.values)
        .join(
            Sample,
            (Sample.task_id == Prediction.task_id)
            & (Sample.sample_index == Prediction.sample_index),
        )
        .where(Prediction.task_id == task_id, Sample.status.in_(ACTIVE_SAMPLE_STATUSES))
        .order_by(Prediction.sample_index, Prediction.iteration)
    ).all()
    for index, values in rows:
        points[index].history.append(values)
    return list(points.values())


# Writes of every running task share these threads, so the event loop stays free for the calls
# in flight and a burst of answers does not queue behind other work of the default executor.
_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="task-store")

# One statement per round (a data-modifying CTE) in autocommit: durable the moment it returns,
# one round trip, and written as SQL once rather than rebuilt per call. ON CONFLICT keeps the
# first answer when a resumed run re-asks a round that was in flight at a crash.
_SAVE_ROUND = text(
    """
    WITH stored AS (
        INSERT INTO predictions (task_id, sample_index, iteration, "values", raw_response,
                                 prompt_tokens, completion_tokens, cost_usd, latency_ms, attempts,
                                 messages_zlib, reasoning)
        VALUES (:task_id, :sample_index, :iteration, CAST(:values AS json), :raw_response,
                :prompt_tokens, :completion_tokens, :cost_usd, :latency_ms, :attempts,
                :messages_zlib, CAST(:reasoning AS json))
        ON CONFLICT ON CONSTRAINT uq_prediction_round DO NOTHING
    )
    UPDATE samples
    SET iterations_done = :iteration, status = :status, converged_at_iteration = :converged_at
    WHERE task_id = :task_id AND sample_index = :sample_index
    """
)
_SAVE_FAILURE = text(
    f"""
    WITH recorded AS (
        INSERT INTO failures (task_id, sample_index, iteration, error_type, message, attempts,
                              messages_zlib)
        VALUES (:task_id, :sample_index, :iteration, :error_type, :message, :attempts,
                :messages_zlib)
    )
    UPDATE samples SET status = '{SampleStatus.FAILED}'
    WHERE task_id = :task_id AND sample_index = :sample_index
    """
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
        params["task_id"] = self.task_id

        def run() -> None:
            with self._engine.connect() as connection:
                connection.execute(statement, params)

        await asyncio.get_running_loop().run_in_executor(_WRITERS, run)


def mark_running(session: Session, task_id: int) -> bool:
    """pending → running (or stays running on resume). False if it was cancelled meanwhile."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(ACTIVE_TASK_STATUSES))
        .values(status=TaskStatus.RUNNING, started_at=func.coalesce(Task.started_at, func.now()))
    )
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult


def finish(session: Session, task_id: int, error: str | None) -> None:
    """Close the task unless a cancel already did: completed (or failed, with `error`)."""
    task = session.get(Task, task_id)
    if task is None or task.status not in ACTIVE_TASK_STATUSES:
        return
    statuses = set(
        session.scalars(select(Sample.status).where(Sample.task_id == task_id).distinct())
    )
    if error:
        reason = None
    elif SampleStatus.NOT_CONVERGED in statuses or not task.early_stop:
        reason = EarlyStopReason.MAX_ITERATIONS_REACHED
    elif SampleStatus.CONVERGED in statuses:
        reason = EarlyStopReason.ALL_SAMPLES_CONVERGED
    else:
        reason = None  # every sample failed
    session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(ACTIVE_TASK_STATUSES))
        .values(
            status=TaskStatus.FAILED if error else TaskStatus.COMPLETED,
            error=error,
            early_stop_reason=reason,
            completed_at=func.now(),
        )
    )
    session.commit()


def is_cancelled(session: Session, task_id: int) -> bool:
    return session.scalar(select(Task.status).where(Task.id == task_id)) == TaskStatus.CANCELLED
