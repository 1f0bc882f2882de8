from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from backend.api.deps import (
    ActorDep,
    CanRead,
    CanWrite,
    PathId,
    SessionDep,
    SettingsDep,
    ensure_owner,
)
from backend.api.responses import errors
from backend.schemas import DatasetDetail, DatasetOut, DatasetPage, UploadPreview
from backend.services import audit, csv_files, datasets, rate_limit

router = APIRouter(prefix="/api/datasets", tags=["datasets"])
Encoding = Annotated[
    Literal[csv_files.ENCODINGS] | None,  # type: ignore[valid-type]
    Form(description="the file's encoding; detected when not given"),
]


@router.post(
    "",
    status_code=201,
    response_model=DatasetOut,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 413, 422, 429),
)
async def upload_dataset(
    file: Annotated[UploadFile, File(description="a CSV file with a header row")],
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    encoding: Encoding = None,
) -> dict:
    rate_limit.limit_actor(session, settings, actor, "upload", settings.UPLOAD_RATE_LIMIT)
    # One byte past the limit is enough for the service to refuse it (413).
    raw = await file.read(settings.max_upload_bytes + 1)
    # Parsing tens of MB of CSV takes seconds: off the event loop, so others are still served.
    dataset = await run_in_threadpool(
        datasets.store_upload,
        session,
        settings,
        file.filename or "upload.csv",
        raw,
        actor.principal.user_id,
        encoding,
    )
    audit.record(session, actor, "upload", dataset.path, details={"rows": dataset.rows})
    return datasets.describe(dataset)


@router.post(
    "/preview",
    response_model=UploadPreview,
    dependencies=[CanWrite],
    responses=errors(400, 401, 403, 413, 422),
)
async def preview_upload(
    file: Annotated[UploadFile, File(description="a CSV file with a header row")],
    settings: SettingsDep,
    encoding: Encoding = None,
) -> dict:
    """The file decoded (detected encoding unless one is named) and parsed; nothing is stored."""
    raw = await file.read(settings.max_upload_bytes + 1)
    return await run_in_threadpool(datasets.preview_upload, settings, raw, encoding)


@router.get("", response_model=DatasetPage, dependencies=[CanRead], responses=errors(401))
def list_datasets(session: SessionDep) -> dict:
    items, total = datasets.list_datasets(session)
    return {"items": [datasets.describe(d) for d in items], "total": total}


@router.get(
    "/{dataset_id}",
    response_model=DatasetDetail,
    dependencies=[CanRead],
    responses=errors(401, 404),
)
def get_dataset(dataset_id: PathId, session: SessionDep, settings: SettingsDep) -> dict:
    dataset = datasets.get_dataset(session, dataset_id)
    return {
        **datasets.describe(dataset),
        "preview": datasets.preview(settings, dataset),
    }


@router.delete(
    "/{dataset_id}",
    status_code=204,
    dependencies=[CanWrite],
    responses=errors(401, 403, 404, 409),
)
def delete_dataset(
    dataset_id: PathId, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> None:
    """Delete an uploaded dataset (its owner, or an admin); 409 while an unfinished task uses it."""
    dataset = datasets.get_dataset(session, dataset_id)
    ensure_owner(session, actor, dataset.owner_id, "delete", f"dataset {dataset_id}")
    path = dataset.path
    datasets.delete_dataset(session, settings, dataset)
    audit.record(session, actor, "dataset_delete", path)
