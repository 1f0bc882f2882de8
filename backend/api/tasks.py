from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import RunnerDep, SessionDep
from backend.api.responses import errors
from backend.schemas import TaskOut, TaskPage, TaskStatus
from backend.services import tasks
from backend.services.task_views import view_tasks

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", response_model=TaskPage, responses=errors(400))
def list_tasks(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: TaskStatus | None = None,
) -> dict:
    items, total = tasks.list_tasks(session, limit, offset, status)
    return {
        "items": view_tasks(session, items),
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{task_id}", response_model=TaskOut, responses=errors(404))
def get_task(task_id: int, session: SessionDep) -> dict:
    return view_tasks(session, [tasks.get_task(session, task_id)])[0]


@router.post("/{task_id}/cancel", response_model=TaskOut, responses=errors(404, 409))
def cancel_task(task_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    task = tasks.cancel_task(session, task_id)
    runner.cancel(task_id)
    return view_tasks(session, [task])[0]
