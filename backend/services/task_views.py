"""The task object of API.md (`GET /api/tasks/{id}`), with counters derived from sample rows."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from backend.core.errors import TaskNotFound
from backend.core.vocabulary import (
    ACTIVE_SAMPLE_STATUSES,
    TERMINAL_TASK_STATUSES,
    Provider,
    SampleStatus,
)
from backend.db.models import Sample, Task
from backend.workflow.predictors import BASELINE_LABEL


@dataclass
class SampleCounts:
    total: int = 0
    converged: int = 0
    failed: int = 0
    active: int = 0
    finished_rounds_sum: int = 0  # rounds done by samples still iterating
    active_min_rounds: int | None = None
    max_rounds: int = 0


def _counts() -> Any:
    """Each task's sample counters, as a LATERAL subquery: one round trip for a page of tasks."""
    active = Sample.status.in_(ACTIVE_SAMPLE_STATUSES)
    return (
        select(
            func.count().label("total"),
            func.count().filter(Sample.status == SampleStatus.CONVERGED).label("converged"),
            func.count().filter(Sample.status == SampleStatus.FAILED).label("failed"),
            func.count().filter(active).label("active"),
            func.coalesce(func.sum(Sample.iterations_done).filter(active), 0).label(
                "finished_rounds_sum"
            ),
            func.min(Sample.iterations_done).filter(active).label("active_min_rounds"),
            func.coalesce(func.max(Sample.iterations_done), 0).label("max_rounds"),
        )
        .where(Sample.task_id == Task.id)
        .lateral("counts")
    )


def load_views(session: Session, query: Select[Task]) -> list[dict[str, Any]]:
    """`query` selects tasks (filtered, ordered, paged); the answer is their API objects."""
    counts = _counts()
    rows = session.execute(query.join(counts, true()).add_columns(*counts.c)).all()
    return [task_view(row[0], SampleCounts(*row[1:])) for row in rows]


def provider_label(task: Task) -> str:
    return (
        BASELINE_LABEL
        if task.llm_provider == Provider.BASELINE
        else f"{task.llm_provider}/{task.llm_model}"
    )


def task_view(task: Task, counts: SampleCounts) -> dict[str, Any]:
    if task.status in TERMINAL_TASK_STATUSES:
        progress = 1.0
        current: int | None = counts.max_rounds
    else:
        done = counts.total - counts.active
        partial = counts.finished_rounds_sum / task.max_iterations
        progress = min((done + partial) / counts.total, 1.0) if counts.total else 0.0
        current = counts.active_min_rounds if counts.active else counts.max_rounds
    return {
        "task_id": task.id,
        "task_name": task.name,
        "task_description": task.description,
        "status": task.status,
        "enable_iteration": True,
        "llm_provider": task.llm_provider,
        "llm_model": task.llm_model,
        "is_baseline": task.llm_provider == Provider.BASELINE,
        "provider_label": provider_label(task),
        "target_properties": task.target_properties,
        "max_iterations": task.max_iterations,
        "convergence_threshold": task.convergence_threshold,
        "early_stop": task.early_stop,
        "max_workers": task.max_workers,
        "temperature": task.temperature,
        "current_iteration": current or 0,
        "progress": round(progress, 4),
        "converged_samples": counts.converged,
        "total_samples": task.total_samples,
        "failed_samples": counts.failed,
        "continue_from_task_id": task.continue_from_task_id,
        "early_stop_reason": task.early_stop_reason,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "started_at": task.started_at,
        "completed_at": task.completed_at,
        "error": task.error,
    }


def view_task(session: Session, task_id: int) -> dict[str, Any]:
    views = load_views(session, select(Task).where(Task.id == task_id))
    if not views:
        raise TaskNotFound(task_id)
    return views[0]
