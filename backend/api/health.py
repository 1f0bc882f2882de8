from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.api.responses import errors
from backend.db.session import get_engine
from backend.schemas import HealthOut

router = APIRouter(tags=["health"])

try:
    VERSION = version("iterative-prediction")
except PackageNotFoundError:
    VERSION = "0.1.0"


@router.get("/api/health", response_model=HealthOut, responses=errors(503))
def health() -> HealthOut | JSONResponse:
    # Its own connection, not the request's unit of work: a lost database must answer 503 here,
    # not fail again when the unit of work commits.
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # the database is down: say so, don't crash
        return JSONResponse(
            {
                "error": "DATABASE_UNAVAILABLE",
                "details": type(exc).__name__,
                "status": "error",
                "database": "unavailable",
            },
            status_code=503,
        )
    return HealthOut(status="ok", database="ok", version=VERSION)
