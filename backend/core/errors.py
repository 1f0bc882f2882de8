"""Domain errors, and the one place they (and every other failure) become the HTTP envelope
`{"error": CODE, "details": ...}`.

Services raise the typed errors below and know nothing of HTTP; each class names its code and
status once. `details` has one shape per code: a list of messages for INVALID_CONFIG (a request
can be wrong in several ways at once), one message for every other code.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError as DriverOperationalError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Something a client can be told: a code, an HTTP status, and what went wrong."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers

    @property
    def details(self) -> str | list[str]:
        return self.message


class InvalidConfig(DomainError):
    """A field out of range, an unknown column, an unusable file: nothing was created."""

    code = "INVALID_CONFIG"

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)

    @property
    def details(self) -> list[str]:
        return self.messages


class DatasetUnreadable(InvalidConfig):
    """A dataset path that names no stored, readable CSV (or one that no longer parses)."""


class PageRequired(DomainError):
    """A history too large to send whole."""

    code = "PAGE_REQUIRED"


class NothingToRetry(DomainError):
    code = "NOTHING_TO_RETRY"


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"no task {task_id}")


class HistoryNotFound(NotFound):
    code = "ITERATION_HISTORY_NOT_FOUND"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"


class TaskAlreadyFinished(Conflict):
    code = "TASK_ALREADY_FINISHED"


class DatasetInUse(Conflict):
    code = "DATASET_IN_USE"


class UserExists(Conflict):
    code = "USER_EXISTS"


class LastAdmin(Conflict):
    code = "LAST_ADMIN"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(DomainError):
    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})


class ProviderUnavailable(DomainError):
    """The LLM provider cannot be called with this server's settings (no key, ...)."""

    status = 503
    code = "LLM_API_ERROR"


def envelope(
    status: int, code: str, details: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "details": details}, status_code=status, headers=headers)


_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_LENGTH_ERRORS = {"string_too_short", "string_too_long", "too_short", "too_long"}
# A value outside an allowed set (an enum) is a configuration error like one out of range.
_CONFIG_ERRORS = _RANGE_ERRORS | _LENGTH_ERRORS | {"enum"}


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
    if kind == "enum":
        return f"{field} must be one of {ctx.get('expected', '')}"
    if kind == "missing":
        return f"{field} is required"
    return f"{field}: {error.get('msg', 'invalid value')}"


def validation_details(
    errors: list[dict[str, Any]], bounds: dict[str, tuple[Any, Any]]
) -> list[str]:
    for error in errors:
        name = str(error.get("loc", ("",))[-1])
        if name in bounds:
            error["_bounds"] = bounds[name]
    return [_describe(e) for e in errors]


def install_error_handlers(app: FastAPI, bounds: dict[str, tuple[Any, Any]]) -> None:
    """`bounds` maps a field name to its (low, high) so messages can name both ends."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        details = validation_details(errors, bounds)
        # A value out of its allowed range or set is a configuration error (400); a body
        # that does not fit the schema at all (missing field, wrong type) is 422.
        out_of_range = all(
            e.get("type") in _CONFIG_ERRORS and e.get("loc", ("",))[0] == "body" for e in errors
        )
        status = 400 if out_of_range else 422
        return envelope(status, InvalidConfig.code, details)

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
