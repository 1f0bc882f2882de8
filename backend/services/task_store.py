"""What a running task writes: one transaction per round or failure, committed at once."""

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from backend.db.models import ACTIVE_SAMPLE_STATUSES, Failure, Prediction, Sample, Task
from backend.db.session import SessionLocal
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


class TaskStore:
    """The graph's RoundSink for one task. Writes run in a worker thread: the event loop stays
    free for the calls in flight."""

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id

    async def save_round(
        self,
        sample_index: int,
        iteration: int,
        answer: Answer,
        status: str,
        converged_at: int | None,
    ) -> None:
        await asyncio.to_thread(
            self._save_round, sample_index, iteration, answer, status, converged_at
        )

    def _save_round(
        self,
        sample_index: int,
        iteration: int,
        answer: Answer,
        status: str,
        converged_at: int | None,
    ) -> None:
        with SessionLocal() as session:
            # A round is stored once: a resumed run that re-asks a round in flight at a crash
            # keeps the first answer.
            session.execute(
                pg_insert(Prediction)
                .values(
                    task_id=self.task_id,
                    sample_index=sample_index,
                    iteration=iteration,
                    values=answer.values,
                    raw_response=answer.raw,
                    prompt_tokens=answer.prompt_tokens,
                    completion_tokens=answer.completion_tokens,
                    cost_usd=answer.cost_usd,
                    latency_ms=answer.latency_ms,
                    attempts=answer.attempts,
                )
                .on_conflict_do_nothing(constraint="uq_prediction_round")
            )
            session.execute(
                update(Sample)
                .where(Sample.task_id == self.task_id, Sample.sample_index == sample_index)
                .values(
                    iterations_done=iteration,
                    status=status,
                    converged_at_iteration=converged_at,
                )
            )
            session.commit()

    async def save_failure(self, sample_index: int, iteration: int, error: PredictionError) -> None:
        await asyncio.to_thread(self._save_failure, sample_index, iteration, error)

    def _save_failure(self, sample_index: int, iteration: int, error: PredictionError) -> None:
        with SessionLocal() as session:
            session.add(
                Failure(
                    task_id=self.task_id,
                    sample_index=sample_index,
                    iteration=iteration,
                    error_type=error.error_type,
                    message=error.message[:2000],
                    attempts=error.attempts,
                )
            )
            session.execute(
                update(Sample)
                .where(Sample.task_id == self.task_id, Sample.sample_index == sample_index)
                .values(status="failed")
            )
            session.commit()


def mark_running(session: Session, task_id: int) -> bool:
    """pending → running (or stays running on resume). False if it was cancelled meanwhile."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(("pending", "running")))
        .values(status="running", started_at=func.coalesce(Task.started_at, func.now()))
    )
    session.commit()
    return result.rowcount == 1


def finish(session: Session, task_id: int, error: str | None) -> None:
    """Close the task unless a cancel already did: completed (or failed, with `error`)."""
    task = session.get(Task, task_id)
    if task is None or task.status not in ("pending", "running"):
        return
    statuses = set(
        session.scalars(select(Sample.status).where(Sample.task_id == task_id).distinct())
    )
    if error:
        reason = None
    elif "not_converged" in statuses or not task.early_stop:
        reason = "max_iterations_reached"
    elif "converged" in statuses:
        reason = "all_samples_converged"
    else:
        reason = None  # every sample failed
    session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(("pending", "running")))
        .values(
            status="failed" if error else "completed",
            error=error,
            early_stop_reason=reason,
            completed_at=func.now(),
        )
    )
    session.commit()


def is_cancelled(session: Session, task_id: int) -> bool:
    return session.scalar(select(Task.status).where(Task.id == task_id)) == "cancelled"
