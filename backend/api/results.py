from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.api.deps import CanRead, PathId, SessionDep, SettingsDep
from backend.api.responses import errors
from backend.schemas import MAX_ID, Accuracy, IterationHistory, RoundDetail
from backend.services import export, history, rounds, statistics, tasks
from backend.services.task_views import to_json

router = APIRouter(prefix="/api/results", tags=["results"], dependencies=[CanRead])


@router.get(
    "/{result_id}/iterations", response_model=IterationHistory, responses=errors(400, 401, 404)
)
def get_iterations(
    result_id: PathId,
    session: SessionDep,
    settings: SettingsDep,
    sample_index: Annotated[
        int | None, Query(description="one sample; 404 if out of range")
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=100_000, description="a page of samples, in sample order (with offset)"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    since: Annotated[
        datetime | None,
        Query(description="only samples with a round or error stored since this `cursor`"),
    ] = None,
) -> Response:
    """Per-sample history; `result_id` is the task id. Partial while the task runs. Without a
    page, the whole history of a task of at most HISTORY_MAX_UNPAGED_SAMPLES samples."""
    if limit is not None:
        limit = min(limit, settings.HISTORY_MAX_UNPAGED_SAMPLES)
    selection = history.Selection(sample_index, limit, offset, since)
    task = tasks.get_task(session, result_id)
    document = history.iteration_history(
        session, task, selection, settings.HISTORY_MAX_UNPAGED_SAMPLES
    )
    # Large documents (thousands of samples): skip re-validation, serialise directly.
    return Response(to_json(document), media_type="application/json")


@router.get("/{result_id}/accuracy", response_model=Accuracy, responses=errors(401, 404))
def get_accuracy(result_id: PathId, session: SessionDep) -> dict:
    """MAE, RMSE and R² per target per round, when the test file carried known values."""
    return statistics.accuracy(session, tasks.get_task(session, result_id))


@router.get(
    "/{result_id}/samples/{sample_index}/rounds/{iteration}",
    response_model=RoundDetail,
    responses=errors(401, 404),
)
def round_detail(result_id: PathId, sample_index: int, iteration: int, session: SessionDep) -> dict:
    """One round as it happened: the messages sent, the raw answer, the model's reasoning, the
    parsed values, tokens, cost, latency and attempts; a failed round answers with its error."""
    return rounds.round_detail(session, tasks.get_task(session, result_id), sample_index, iteration)


@router.get(
    "/{result_id}/export",
    responses=errors(401, 404) | {200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_results(
    result_id: PathId,
    session: SessionDep,
    format: export.Format = "csv",
    layout: export.Layout = "final",
) -> Response:
    """The results as an attachment: `final` one row per sample (final values, interval bounds
    when calibrated), `rounds` one row per sample per round. CSV text cells are formula-safe."""
    task = tasks.get_task(session, result_id)
    body, media_type, name = export.export(session, task, format, layout)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
