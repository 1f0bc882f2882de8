"""Failure kinds of one prediction (API.md, "Failures and retries")."""

from backend.core.redact import redact
from backend.core.vocabulary import RETRYABLE_ERROR_TYPES, ErrorType


class PredictionError(Exception):
    """One failed attempt, classified. `retry_after` is the provider's hint in seconds."""

    def __init__(
        self, error_type: ErrorType, message: str, retry_after: float | None = None
    ) -> None:
        # Provider text may echo a key or an Authorization header: it is stored and shown.
        message = redact(message)
        super().__init__(message)
        self.error_type = ErrorType(error_type)
        self.message = message
        self.retry_after = retry_after
        self.attempts = 1
        self.messages: list[dict[str, str]] | None = None  # what the failed round sent

    @property
    def retryable(self) -> bool:
        return self.error_type in RETRYABLE_ERROR_TYPES


class TaskAuthError(Exception):
    """The provider rejected the credentials: the whole task fails at once."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
