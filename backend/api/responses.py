"""Error responses documented in OpenAPI, so clients (and fuzzers) know the envelope."""

from typing import Any

import orjson
from fastapi import Response

from backend.schemas import ErrorEnvelope


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorEnvelope} for status in statuses}


class OrjsonResponse(Response):
    """JSON serialised by orjson, without re-validation against the response model: for large
    documents (a history of thousands of samples) several times faster than JSONResponse.
    (FastAPI's ORJSONResponse is deprecated.)"""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
