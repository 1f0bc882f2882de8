"""The iterative-prediction endpoints of API.md: start, retry-failed, convergence-stats."""

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import RunnerDep, SessionDep, SettingsDep
from backend.api.responses import errors
from backend.schemas import (
    ConvergenceStats,
    PromptPreview,
    PromptPreviewRequest,
    RetryRequest,
    RetryResponse,
    StartRequest,
    StartResponse,
)
from backend.services import statistics, tasks

router = APIRouter(prefix="/api/iterative-prediction", tags=["iterative prediction"])


@router.post("/start", response_model=StartResponse, responses=errors(400, 422, 503))
def start(
    body: StartRequest, session: SessionDep, settings: SettingsDep, runner: RunnerDep
) -> dict:
    checked = tasks.check_config(settings, body)
    task = tasks.create_task(session, checked)
    runner.wake()
    return {
        "task_id": task.id,
        "task_name": task.name,
        "status": task.status,
        "created_at": task.created_at,
        "message": f"task started with {task.total_samples} samples",
    }


@router.post("/preview-prompt", response_model=PromptPreview, responses=errors(400, 422, 503))
def preview_prompt(body: PromptPreviewRequest, settings: SettingsDep) -> dict:
    """The round-1 prompt of one sample, rendered without calling any model."""
    return tasks.preview_prompt(settings, body)


@router.post("/retry-failed", response_model=RetryResponse, responses=errors(400, 404, 422))
def retry_failed(
    body: RetryRequest, session: SessionDep, settings: SettingsDep, runner: RunnerDep
) -> dict:
    task, indices = tasks.retry_failed(session, settings, body)
    runner.wake()
    return {
        "new_task_id": task.id,
        "original_task_id": body.task_id,
        "retrying_samples": indices,
        "message": f"retrying {len(indices)} failed samples in task {task.id}",
    }


@router.get("/convergence-stats", response_model=ConvergenceStats, responses=errors(404, 422))
def convergence_stats(task_id: Annotated[int, Query()], session: SessionDep) -> dict:
    return statistics.convergence_stats(session, tasks.get_task(session, task_id))
