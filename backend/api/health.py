from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.api.deps import SessionDep
from backend.api.responses import errors
from backend.schemas import HealthOut

router = APIRouter(tags=["health"])

try:
    VERSION = version("iterative-prediction")
except PackageNotFoundError:
    VERSION = "0.1.0"


@router.get("/api/health", response_model=HealthOut, responses=errors(503))
def health(session: SessionDep) -> HealthOut | JSONResponse:
    try:
        session.execute(text("SELECT 1"))
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
