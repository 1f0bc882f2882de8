"""Error responses documented in OpenAPI, so clients (and fuzzers) know the envelope."""

from typing import Any

from backend.schemas import ErrorEnvelope


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorEnvelope} for status in statuses}
