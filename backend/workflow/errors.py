"""Failure kinds of one prediction (API.md, "Failures and retries")."""

from backend.core.redact import redact

ERROR_TYPES = (
    "api_timeout",
    "rate_limit",
    "auth_error",
    "server_error",
    "connection_error",
    "parse_error",
    "missing_field",
    "type_error",
    "range_error",
    "unknown_error",
)
# Asking again can help with these; a rejected credential or a malformed request it cannot.
RETRYABLE = frozenset(
    {
        "api_timeout",
        "rate_limit",
        "server_error",
        "connection_error",
        "parse_error",
        "missing_field",
        "type_error",
        "range_error",
    }
)


class PredictionError(Exception):
    """One failed attempt, classified. `retry_after` is the provider's hint in seconds."""

    def __init__(self, error_type: str, message: str, retry_after: float | None = None) -> None:
        assert error_type in ERROR_TYPES, error_type
        # Provider text may echo a key or an Authorization header: it is stored and shown.
        message = redact(message)
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.retry_after = retry_after
        self.attempts = 1
        self.messages: list[dict[str, str]] | None = None  # what the failed round sent

    @property
    def retryable(self) -> bool:
        return self.error_type in RETRYABLE


class TaskAuthError(Exception):
    """The provider rejected the credentials: the whole task fails at once."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
