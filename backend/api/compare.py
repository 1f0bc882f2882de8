"""Runs side by side, and the baseline on a task's test set to compare against."""

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import ActorDep, CanRead, CanWrite, PathId, SessionDep, SettingsDep
from backend.api.responses import errors
from backend.schemas import Comparison, StartResponse
from backend.services import audit, compare, tasks

router = APIRouter(tags=["compare"])


@router.get(
    "/api/compare",
    response_model=Comparison,
    dependencies=[CanRead],
    responses=errors(400, 401, 404),
)
def compare_tasks(
    session: SessionDep,
    task_ids: Annotated[str, Query(description="2 to 10 comma-separated task ids")],
) -> dict:
    """Accuracy (round 1 and final), convergence, usage and time of each task; the newest
    completed baseline on the same test file is added as a row when none was chosen."""
    return compare.compare(session, compare.parse_ids(task_ids))


@router.post(
    "/api/tasks/{task_id}/baseline",
    response_model=StartResponse,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 404),
)
def run_baseline(
    task_id: PathId, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> dict:
    """Start the baseline on this task's test set (same files, targets and columns)."""
    source = tasks.get_task(session, task_id)
    task = compare.start_baseline(session, settings, source, actor.principal.user_id)
    audit.record(session, actor, "start", f"task {task.id}", details={"baseline_for": task_id})
    return {
        "task_id": task.id,
        "task_name": task.name,
        "status": task.status,
        "created_at": task.created_at,
        "message": f"baseline started with {task.total_samples} samples",
    }
