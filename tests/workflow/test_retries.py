"""Retry classification and backoff (backend/workflow/llm.py) in process, without a provider."""

import asyncio
from types import SimpleNamespace

import httpx
import litellm
import pytest
from tenacity import RetryCallState

from backend.core.config import Settings
from backend.core.vocabulary import ErrorType
from backend.workflow.errors import PredictionError
from backend.workflow.llm import backoff_wait, classify, with_retries


def settings(**values: float) -> Settings:
    return Settings(RETRY_MAX_ATTEMPTS=3, RETRY_BACKOFF_FACTOR=0, **values)  # type: ignore[arg-type]


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://llm"))


@pytest.mark.parametrize(
    ("exc", "error_type"),
    [
        (litellm.Timeout("slow", model="m", llm_provider="openai"), ErrorType.API_TIMEOUT),
        (TimeoutError(), ErrorType.API_TIMEOUT),
        (
            litellm.RateLimitError("busy", llm_provider="openai", model="m"),
            ErrorType.RATE_LIMIT,
        ),
        (
            litellm.AuthenticationError("bad key", llm_provider="openai", model="m"),
            ErrorType.AUTH_ERROR,
        ),
        (
            litellm.InternalServerError("boom", llm_provider="openai", model="m"),
            ErrorType.SERVER_ERROR,
        ),
        (
            litellm.APIConnectionError("refused", llm_provider="openai", model="m"),
            ErrorType.CONNECTION_ERROR,
        ),
        (ValueError("what"), ErrorType.UNKNOWN_ERROR),
    ],
)
def test_provider_errors_are_classified(exc: Exception, error_type: ErrorType):
    assert classify(exc).error_type == error_type


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, ErrorType.AUTH_ERROR),
        (403, ErrorType.AUTH_ERROR),
        (429, ErrorType.RATE_LIMIT),
        (502, ErrorType.SERVER_ERROR),
        (400, ErrorType.UNKNOWN_ERROR),
    ],
)
def test_an_unknown_exception_is_classified_by_its_status_code(status: int, error_type: ErrorType):
    exc = Exception("odd client")
    exc.status_code = status  # type: ignore[attr-defined]
    assert classify(exc).error_type == error_type


def test_retry_after_is_read_from_the_response():
    exc = litellm.RateLimitError(
        "busy", llm_provider="openai", model="m", response=_response(429, {"retry-after": "7"})
    )
    assert classify(exc).retry_after == 7.0


def test_retry_after_is_read_from_litellms_copy_of_the_provider_headers():
    # What litellm raises for a real 429: the provider's headers are only in this attribute.
    exc = litellm.RateLimitError("busy", llm_provider="openai", model="m")
    exc.litellm_response_headers = httpx.Headers({"Retry-After": "3"})
    assert classify(exc).retry_after == 3.0


def test_only_transient_kinds_are_retried():
    assert PredictionError(ErrorType.RATE_LIMIT, "x").retryable
    assert PredictionError(ErrorType.PARSE_ERROR, "x").retryable
    assert not PredictionError(ErrorType.AUTH_ERROR, "x").retryable
    assert not PredictionError(ErrorType.UNKNOWN_ERROR, "x").retryable


def _state(attempt: int, exc: Exception | None = None) -> RetryCallState:
    outcome = SimpleNamespace(exception=lambda: exc)
    return SimpleNamespace(attempt_number=attempt, outcome=outcome)  # type: ignore[return-value]


def test_backoff_doubles_with_jitter_and_is_capped():
    wait = backoff_wait(Settings(RETRY_BACKOFF_FACTOR=2.0, RETRY_MAX_WAIT_SECONDS=60.0))
    for attempt, full in ((1, 2.0), (2, 4.0), (3, 8.0)):
        delays = [wait(_state(attempt)) for _ in range(50)]
        assert all(full * 0.5 <= d <= full for d in delays)
    assert wait(_state(10)) == 60.0


def test_backoff_waits_at_least_as_long_as_retry_after_says():
    wait = backoff_wait(Settings(RETRY_BACKOFF_FACTOR=0.01, RETRY_MAX_WAIT_SECONDS=60.0))
    hinted = PredictionError(ErrorType.RATE_LIMIT, "busy", retry_after=12.0)
    assert wait(_state(1, hinted)) == 12.0
    capped = PredictionError(ErrorType.RATE_LIMIT, "busy", retry_after=600.0)
    assert wait(_state(1, capped)) == 60.0


def _attempts(*outcomes: object):
    calls: list[int] = []

    async def attempt() -> object:
        calls.append(1)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, calls


def test_a_transient_failure_is_retried_until_it_succeeds():
    attempt, calls = _attempts(PredictionError(ErrorType.SERVER_ERROR, "502"), "ok")
    assert asyncio.run(with_retries(attempt, settings())) == "ok"
    assert len(calls) == 2


def test_retries_stop_after_the_configured_attempts_and_say_how_many():
    error = PredictionError(ErrorType.API_TIMEOUT, "slow")
    attempt, calls = _attempts(error, error, error, "never")
    with pytest.raises(PredictionError) as failed:
        asyncio.run(with_retries(attempt, settings()))
    assert len(calls) == 3 and failed.value.attempts == 3


def test_a_rejected_credential_is_not_retried():
    attempt, calls = _attempts(PredictionError(ErrorType.AUTH_ERROR, "401"), "never")
    with pytest.raises(PredictionError) as failed:
        asyncio.run(with_retries(attempt, settings()))
    assert len(calls) == 1 and failed.value.attempts == 1
