"""The task object of API.md (`GET /api/tasks/{id}`), with counters derived from sample rows."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import ACTIVE_SAMPLE_STATUSES, Sample, Task
from backend.workflow.predictors import BASELINE_LABEL

TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class SampleCounts:
    total: int = 0
    converged: int = 0
    failed: int = 0
    active: int = 0
    finished_rounds_sum: int = 0  # rounds done by samples still iterating
    active_min_rounds: int | None = None
    max_rounds: int = 0


def sample_counts(session: Session, task_ids: list[int]) -> dict[int, SampleCounts]:
    """One grouped query for any number of tasks."""
    rows = session.execute(
        select(
            Sample.task_id,
            Sample.status,
            func.count(),
            func.min(Sample.iterations_done),
            func.max(Sample.iterations_done),
            func.sum(Sample.iterations_done),
        )
        .where(Sample.task_id.in_(task_ids))
        .group_by(Sample.task_id, Sample.status)
    ).all()
    counts = {task_id: SampleCounts() for task_id in task_ids}
    for task_id, status, n, low, high, total in rows:
        c = counts[task_id]
        c.total += n
        c.max_rounds = max(c.max_rounds, high or 0)
        if status == "converged":
            c.converged += n
        elif status == "failed":
            c.failed += n
        if status in ACTIVE_SAMPLE_STATUSES:
            c.active += n
            c.finished_rounds_sum += total or 0
            c.active_min_rounds = (
                low if c.active_min_rounds is None else min(c.active_min_rounds, low)
            )
    return counts


def provider_label(task: Task) -> str:
    return (
        BASELINE_LABEL
        if task.llm_provider == "baseline"
        else f"{task.llm_provider}/{task.llm_model}"
    )


def task_view(task: Task, counts: SampleCounts) -> dict[str, Any]:
    if task.status in TERMINAL:
        progress = 1.0
        current = counts.max_rounds
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
        "is_baseline": task.llm_provider == "baseline",
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


def view_tasks(session: Session, tasks: list[Task]) -> list[dict[str, Any]]:
    counts = sample_counts(session, [t.id for t in tasks]) if tasks else {}
    return [task_view(t, counts[t.id]) for t in tasks]
