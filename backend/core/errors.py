"""The error envelope `{"error": CODE, "details": ...}` for every 4xx/5xx answer."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError as DriverOperationalError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, details: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {details}")
        self.status = status
        self.code = code
        self.details = details
        self.headers = headers


def invalid_config(details: Any) -> ApiError:
    return ApiError(400, "INVALID_CONFIG", details)


def not_found(code: str, details: str) -> ApiError:
    return ApiError(404, code, details)


def envelope(
    status: int, code: str, details: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "details": details}, status_code=status, headers=headers)


_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_LENGTH_ERRORS = {"string_too_short", "string_too_long", "too_short", "too_long"}


def _describe(error: dict[str, Any]) -> str:
    """One readable sentence per validation error, naming the field."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or "body"
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind in _RANGE_ERRORS:
        bounds = error.get("_bounds")
        if bounds:
            return f"{field} must be between {bounds[0]} and {bounds[1]}"
        bound = next(iter(ctx.values()), "")
        words = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "greater than",
            "less_than": "less than",
        }
        return f"{field} must be {words[kind]} {bound}"
    if kind == "missing":
        return f"{field} is required"
    return f"{field}: {error.get('msg', 'invalid value')}"


def validation_details(errors: list[dict[str, Any]], bounds: dict[str, tuple]) -> list[str]:
    for error in errors:
        name = str(error.get("loc", ("",))[-1])
        if name in bounds:
            error["_bounds"] = bounds[name]
    return [_describe(e) for e in errors]


def install_error_handlers(app: FastAPI, bounds: dict[str, tuple]) -> None:
    """`bounds` maps a field name to its (low, high) so messages can name both ends."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        details = validation_details(errors, bounds)
        # A value out of its allowed range is a configuration error (400); a body
        # that does not fit the schema at all (missing field, wrong type) is 422.
        out_of_range = all(
            e.get("type") in _RANGE_ERRORS | _LENGTH_ERRORS and e.get("loc", ("",))[0] == "body"
            for e in errors
        )
        status = 400 if out_of_range else 422
        return envelope(status, "INVALID_CONFIG", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
        code = codes.get(exc.status_code, "HTTP_ERROR")
        return envelope(exc.status_code, code, exc.detail)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            logger.warning("database unavailable on %s: %s", request.url.path, type(exc.orig))
            return envelope(503, "DATABASE_UNAVAILABLE", "the database is not answering; retry")
        return await _unexpected(request, exc)

    # The same from the async read pool, which uses psycopg without SQLAlchemy (a pool timeout
    # is one too).
    @app.exception_handler(DriverOperationalError)
    async def _driver(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("database unavailable on %s: %s", request.url.path, type(exc))
        return envelope(503, "DATABASE_UNAVAILABLE", "the database is not answering; retry")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope(500, "INTERNAL_ERROR", "internal error; see the server log")
