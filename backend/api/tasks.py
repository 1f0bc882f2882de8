from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.api.deps import (
    ActorDep,
    CanRead,
    CanWrite,
    PathId,
    ReaderDep,
    SessionDep,
    ensure_owner,
)
from backend.api.responses import errors
from backend.core.vocabulary import TaskStatus
from backend.schemas import MAX_ID, TaskOut, TaskPage
from backend.services import audit, tasks
from backend.services.task_views import page_json, task_json, view_task

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", response_model=TaskPage, dependencies=[CanRead], responses=errors(400, 401))
async def list_tasks(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    status: TaskStatus | None = None,
) -> Response:
    return Response(await page_json(limit, offset, status), media_type="application/json")


@router.get("/{task_id}", response_model=TaskOut, responses=errors(401, 404))
async def get_task(task_id: PathId, reader: ReaderDep) -> Response:
    # The most frequent request of all (every dashboard polls it): see task_views.
    return Response(await task_json(task_id, reader), media_type="application/json")


@router.post(
    "/{task_id}/cancel",
    response_model=TaskOut,
    dependencies=[CanWrite],
    responses=errors(401, 403, 404, 409),
)
def cancel_task(task_id: PathId, session: SessionDep, actor: ActorDep) -> dict:
    owner = tasks.get_task(session, task_id).owner_id
    ensure_owner(session, actor, owner, "cancel", f"task {task_id}")
    task = tasks.cancel_task(session, task_id)
    audit.record(session, actor, "cancel", f"task {task_id}")
    return view_task(session, task.id)
