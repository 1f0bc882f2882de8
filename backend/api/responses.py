"""Error responses documented in OpenAPI, so clients (and fuzzers) know the envelope."""

from typing import Any

from backend.schemas import ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}
