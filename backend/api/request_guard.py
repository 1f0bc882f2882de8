"""Pure ASGI middleware that decides before a request body is read:

- a write to the API without valid credentials is refused (401), so anonymous clients cannot
  make the server buffer or parse bodies (FastAPI reads a body before running dependencies);
- a body larger than its cap (MAX_JSON_BODY_KB; uploads MAX_UPLOAD_MB) is refused (413), from
  its Content-Length when sent, else as soon as the streamed bytes pass the cap.

The route's own dependency still checks the credentials fully (database, epoch, role).
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import Settings
from backend.core.errors import envelope
from backend.services import security
from backend.services.accounts import principal_for_bearer

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PUBLIC = frozenset({"/api/auth/login", "/api/health"})
_UPLOADS = frozenset({"/api/datasets"})
# Multipart framing around an upload's file: headers of each part, boundaries.
_MULTIPART_SLACK = 1024 * 1024


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not path.startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if (
            self.settings.auth_required
            and path not in _PUBLIC
            and not await self._credible(headers)
        ):
            response = envelope(
                401,
                "UNAUTHORIZED",
                "send Authorization: Bearer <token> (log in, or create an API token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        limit = self._limit(path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)

    def _limit(self, path: str) -> int:
        if path in _UPLOADS:
            return self.settings.max_upload_bytes + _MULTIPART_SLACK
        return self.settings.max_json_body_bytes

    async def _credible(self, headers: Headers) -> bool:
        """A bearer that may be valid: a session we signed and that has not expired (no
        database), or an API token that exists, unrevoked, for an active user (one indexed
        lookup, writes only). The route's dependency still checks epoch and role."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if token.startswith(security.API_TOKEN_PREFIX):
            return len(token) < 100 and await principal_for_bearer(self.settings, token) is not None
        return security.session_claims(self.settings, token) is not None


def _too_large(limit: int) -> JSONResponse:
    return envelope(413, "PAYLOAD_TOO_LARGE", f"request body larger than {limit} bytes")


def _counting(receive: Receive, limit: int) -> Receive:
    """`receive` that stops a streamed (chunked) body once it passes `limit` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # FastAPI passes an HTTPException from body reading through to the envelope.
                raise HTTPException(413, f"request body larger than {limit} bytes")
        return message

    return wrapped
