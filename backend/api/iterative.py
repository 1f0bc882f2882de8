"""The iterative-prediction endpoints of API.md: start, retry-failed, convergence-stats."""

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import (
    ActorDep,
    CanRead,
    CanWrite,
    SessionDep,
    SettingsDep,
    ensure_owner,
)
from backend.api.responses import errors
from backend.schemas import (
    MAX_ID,
    ConvergenceStats,
    PromptPreview,
    PromptPreviewRequest,
    RetryRequest,
    RetryResponse,
    StartRequest,
    StartResponse,
)
from backend.services import audit, rate_limit, statistics, tasks

router = APIRouter(prefix="/api/iterative-prediction", tags=["iterative prediction"])


@router.post(
    "/start",
    response_model=StartResponse,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 422, 429, 503),
)
def start_task(
    body: StartRequest,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> dict:
    rate_limit.limit_actor(session, settings, actor, "start", settings.START_RATE_LIMIT)
    checked = tasks.check_config(settings, body)
    task = tasks.create_task(session, settings, checked, owner_id=actor.principal.user_id)
    audit.record(
        session,
        actor,
        "start",
        f"task {task.id}",
        details={"provider": task.llm_provider, "samples": task.total_samples},
    )
    return {
        "task_id": task.id,
        "task_name": task.name,
        "status": task.status,
        "created_at": task.created_at,
        "message": f"task started with {task.total_samples} samples",
    }


@router.post(
    "/preview-prompt",
    response_model=PromptPreview,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 422, 503),
)
def preview_prompt(body: PromptPreviewRequest, settings: SettingsDep) -> dict:
    """The round-1 prompt of one sample, rendered without calling any model."""
    return tasks.preview_prompt(settings, body)


@router.post(
    "/retry-failed",
    response_model=RetryResponse,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 404, 422),
)
def retry_failed(
    body: RetryRequest,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> dict:
    owner = tasks.get_task(session, body.task_id).owner_id
    ensure_owner(session, actor, owner, "retry", f"task {body.task_id}")
    task, indices = tasks.retry_failed(session, settings, body, owner_id=actor.principal.user_id)
    audit.record(session, actor, "retry", f"task {body.task_id}", details={"new_task_id": task.id})
    return {
        "new_task_id": task.id,
        "original_task_id": body.task_id,
        "retrying_samples": indices,
        "message": f"retrying {len(indices)} failed samples in task {task.id}",
    }


@router.get(
    "/convergence-stats",
    response_model=ConvergenceStats,
    dependencies=[CanRead],
    responses=errors(401, 404, 422),
)
def convergence_stats(task_id: Annotated[int, Query(ge=1, le=MAX_ID)], session: SessionDep) -> dict:
    return statistics.convergence_stats(session, tasks.get_task(session, task_id))
