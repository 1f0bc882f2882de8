"""The service's words, once: the database's CHECK constraints, the API schemas (and so the
OpenAPI document and the dashboard's generated types), the raw SQL and the tests read them here.

Adding a member is a schema change where a CHECK constraint lists the enum (a migration).
"""

from enum import StrEnum


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_TASK_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING)
TERMINAL_TASK_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class SampleStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    CONVERGED = "converged"
    NOT_CONVERGED = "not_converged"
    FAILED = "failed"


ACTIVE_SAMPLE_STATUSES = (SampleStatus.PENDING, SampleStatus.RUNNING)


class ConvergenceStatus(StrEnum):
    """A sample's or a target's verdict in the iteration history."""

    CONVERGED = "converged"
    NOT_CONVERGED = "not_converged"
    FAILED = "failed"


class EarlyStopReason(StrEnum):
    ALL_SAMPLES_CONVERGED = "all_samples_converged"
    MAX_ITERATIONS_REACHED = "max_iterations_reached"
    CANCELLED = "cancelled"
    BUDGET_EXHAUSTED = "budget_exhausted"  # its max_cost_usd was reached


class Role(StrEnum):
    """In rank order: each role may do everything the ones before it may."""

    VIEWER = "viewer"
    MEMBER = "member"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Provider(StrEnum):
    BASELINE = "baseline"  # the kNN predictor: no LLM, no key
    OPENAI = "openai"
    GEMINI = "gemini"
    OLLAMA = "ollama"


class ErrorType(StrEnum):
    """Why one prediction failed (API.md, "Failures and retries")."""

    API_TIMEOUT = "api_timeout"
    RATE_LIMIT = "rate_limit"
    AUTH_ERROR = "auth_error"
    SERVER_ERROR = "server_error"
    CONNECTION_ERROR = "connection_error"
    PARSE_ERROR = "parse_error"
    MISSING_FIELD = "missing_field"
    TYPE_ERROR = "type_error"
    RANGE_ERROR = "range_error"
    UNKNOWN_ERROR = "unknown_error"


# Asking again can help with these; a rejected credential or an unknown failure it cannot.
RETRYABLE_ERROR_TYPES = frozenset(ErrorType) - {ErrorType.AUTH_ERROR, ErrorType.UNKNOWN_ERROR}

# Field limits the dashboard shows before the server would refuse a value.
MIN_PASSWORD_LENGTH = 10


def sql_in(values: "type[StrEnum] | tuple[StrEnum, ...]") -> str:
    """`('a', 'b')`: the right-hand side of a SQL `IN` for a CHECK constraint or raw SQL."""
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"
