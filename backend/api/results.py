from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import CanRead, PathId, SessionDep
from backend.api.responses import OrjsonResponse, errors
from backend.schemas import Accuracy, IterationHistory
from backend.services import history, statistics, tasks

router = APIRouter(prefix="/api/results", tags=["results"], dependencies=[CanRead])


@router.get("/{result_id}/iterations", response_model=IterationHistory, responses=errors(401, 404))
def get_iterations(
    result_id: PathId,
    session: SessionDep,
    sample_index: Annotated[
        int | None, Query(description="one sample; 404 if out of range")
    ] = None,
):
    """Per-sample history; `result_id` is the task id. Partial while the task runs."""
    document = history.iteration_history(session, tasks.get_task(session, result_id), sample_index)
    # Large documents (thousands of samples): skip re-validation, serialise directly.
    return OrjsonResponse(document)


@router.get("/{result_id}/accuracy", response_model=Accuracy, responses=errors(401, 404))
def get_accuracy(result_id: PathId, session: SessionDep) -> dict:
    """MAE, RMSE and R² per target per round, when the test file carried known values."""
    return statistics.accuracy(session, tasks.get_task(session, result_id))
