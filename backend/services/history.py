"""The iteration-history document of API.md, assembled on read from prediction rows."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core.errors import not_found
from backend.db.models import Failure, Prediction, Sample, Task
from backend.schemas import MAX_ID
from backend.services.intervals import intervals_for
from backend.workflow.convergence import (
    is_converged,
    relative_changes,
    target_converged_at,
)


def _sample_status(sample: Any) -> str:
    if sample.status == "failed":
        return "failed"
    return "converged" if sample.converged_at_iteration is not None else "not_converged"


def _sample_document(
    task: Task,
    sample: Any,
    rounds: list[dict[str, float]],
    errors: list[dict[str, Any]],
) -> dict[str, Any]:
    threshold = task.convergence_threshold
    converged_at = sample.converged_at_iteration
    targets = {}
    for target in task.target_properties:
        values = [r[target] for r in rounds]
        changes = relative_changes(values)
        latest_converged = is_converged(changes[-1], threshold) if changes else False
        targets[target] = {
            "iterations": values,
            "relative_changes": changes,
            "convergence_status": "converged" if latest_converged else "not_converged",
            "converged_at_iteration": converged_at or target_converged_at(changes, threshold),
        }
    return {
        "sample_index": sample.sample_index,
        "sample_id": sample.sample_id,
        "composition": sample.composition,
        "convergence_status": _sample_status(sample),
        "converged_at_iteration": converged_at,
        "targets": targets,
        "final_predictions": dict(rounds[-1]) if rounds else {},
        "intervals": intervals_for(task.calibration, rounds[-1] if rounds else {}),
        "failed_iterations": sorted({e["iteration"] for e in errors}),
        "errors": errors,
    }


def _load(session: Session, task_id: int, sample_index: int | None) -> tuple[list, list, list]:
    def only(query: Any, model: Any) -> Any:
        query = query.where(model.task_id == task_id)
        return query if sample_index is None else query.where(model.sample_index == sample_index)

    samples = session.execute(
        only(
            select(
                Sample.sample_index,
                Sample.sample_id,
                Sample.composition,
                Sample.status,
                Sample.converged_at_iteration,
            ),
            Sample,
        ).order_by(Sample.sample_index)
    ).all()
    predictions = session.execute(
        only(
            select(
                Prediction.sample_index,
                Prediction.iteration,
                Prediction.values,
                Prediction.created_at,
            ),
            Prediction,
        ).order_by(Prediction.sample_index, Prediction.iteration)
    ).all()
    failures = session.execute(
        only(
            select(
                Failure.sample_index,
                Failure.iteration,
                Failure.error_type,
                Failure.message,
                Failure.attempts,
            ),
            Failure,
        ).order_by(Failure.id)
    ).all()
    return samples, predictions, failures


def _summaries(task: Task, samples: list, predictions: list, failures: list) -> list[dict]:
    """Per round: when its last prediction landed, how long since the previous round's last."""
    landed: dict[int, list[datetime]] = defaultdict(list)
    for p in predictions:
        landed[p.iteration].append(p.created_at)
    failed = defaultdict(int)
    for f in failures:
        failed[f.iteration] += 1
    converged = defaultdict(int)
    for s in samples:
        if s.converged_at_iteration:
            converged[s.converged_at_iteration] += 1
    previous_end = task.started_at or task.created_at
    out = []
    for n in sorted(set(landed) | set(failed)):
        end = max(landed[n]) if landed.get(n) else None
        duration = (end - previous_end).total_seconds() if end and previous_end else None
        out.append(
            {
                "iteration": n,
                "timestamp": end,
                "duration_seconds": max(duration, 0.0) if duration is not None else None,
                "processed_samples": len(landed.get(n, ())),
                "failed_samples": failed[n],
                "newly_converged": converged[n],
            }
        )
        previous_end = end or previous_end
    return out


def iteration_history(session: Session, task: Task, sample_index: int | None) -> dict[str, Any]:
    # (A retried task keeps the original indices, so only the database's range is checked here.)
    if sample_index is not None and not 0 <= sample_index <= MAX_ID:
        raise not_found("NOT_FOUND", f"task {task.id} has no sample_index {sample_index}")
    samples, predictions, failures = _load(session, task.id, sample_index)
    if sample_index is not None and not samples:
        raise not_found("NOT_FOUND", f"task {task.id} has no sample_index {sample_index}")
    if not predictions and not failures and not _has_results(session, task.id):
        raise not_found("ITERATION_HISTORY_NOT_FOUND", f"task {task.id} has no prediction yet")
    rounds: dict[int, list[dict[str, float]]] = defaultdict(list)
    for p in predictions:
        rounds[p.sample_index].append(p.values)
    errors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in failures:
        errors[f.sample_index].append(
            {
                "iteration": f.iteration,
                "error_type": f.error_type,
                "message": f.message,
                "attempts": f.attempts,
            }
        )
    documents = {
        f"sample_{s.sample_index}": _sample_document(
            task, s, rounds[s.sample_index], errors[s.sample_index]
        )
        for s in samples
    }
    return {
        "global_info": _global_info(session, task),
        "samples": documents,
        "iteration_summaries": _summaries(task, samples, predictions, failures),
    }


def _has_results(session: Session, task_id: int) -> bool:
    """Any stored round or failure (a task whose samples all failed still has a history)."""
    for model in (Prediction, Failure):
        if session.scalar(select(model.id).where(model.task_id == task_id).limit(1)):
            return True
    return False


def _global_info(session: Session, task: Task) -> dict[str, Any]:
    counts = dict(
        session.execute(
            select(Sample.status, func.count())
            .where(Sample.task_id == task.id)
            .group_by(Sample.status)
        ).all()
    )
    total_iterations = (
        session.scalar(select(func.max(Prediction.iteration)).where(Prediction.task_id == task.id))
        or 0
    )
    end = task.completed_at
    duration = (end - task.created_at).total_seconds() if end else None
    reason = task.early_stop_reason
    return {
        "task_id": task.id,
        "total_iterations": total_iterations,
        "max_iterations": task.max_iterations,
        "convergence_threshold": task.convergence_threshold,
        "early_stopped": reason in ("all_samples_converged", "cancelled"),
        "early_stop_reason": reason,
        "total_samples": task.total_samples,
        "converged_samples": counts.get("converged", 0),
        "failed_samples": counts.get("failed", 0),
        "created_at": task.created_at,
        "completed_at": end,
        "total_duration_seconds": duration,
    }
