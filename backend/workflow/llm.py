"""Every LLM call goes through here: provider mapping, one attempt via litellm, classification
of what went wrong, and the retry policy of API.md (tenacity)."""

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

# Offline, litellm would otherwise spend seconds at import fetching a price map.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from backend.core import metrics
from backend.core.config import Settings
from backend.core.vocabulary import ErrorType, Provider
from backend.workflow.errors import PredictionError

litellm.telemetry = False
litellm.suppress_debug_info = True

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LlmTarget:
    """Where a call goes. Built from settings, so keys never pass through a request or the DB."""

    model: str
    api_base: str | None
    api_key: str | None
    timeout: float


def missing_credentials(provider: str, settings: Settings) -> str | None:
    """Why `provider` cannot be called with these settings, or None if it can."""
    if provider == Provider.GEMINI and not settings.GEMINI_API_KEY:
        return "GEMINI_API_KEY is not set"
    if provider == Provider.OPENAI and not (settings.OPENAI_API_KEY or settings.LLM_API_BASE):
        return "set OPENAI_API_KEY, or LLM_API_BASE for an OpenAI-compatible server"
    return None


def llm_target(provider: str, model: str, settings: Settings) -> LlmTarget:
    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value else None

    if provider == Provider.OPENAI:
        key = secret(settings.OPENAI_API_KEY) or ("none" if settings.LLM_API_BASE else None)
        return LlmTarget(
            f"openai/{model}", settings.LLM_API_BASE, key, settings.LLM_TIMEOUT_SECONDS
        )
    if provider == Provider.GEMINI:
        key = secret(settings.GEMINI_API_KEY)
        return LlmTarget(f"gemini/{model}", None, key, settings.LLM_TIMEOUT_SECONDS)
    if provider == Provider.OLLAMA:
        return LlmTarget(
            f"ollama/{model}", settings.LLM_API_BASE, None, settings.LLM_TIMEOUT_SECONDS
        )
    raise ValueError(f"not an LLM provider: {provider}")


@dataclass
class LlmReply:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float
    finish_reason: str | None = None  # "length": cut off, so never repaired into an answer
    model: str | None = None  # litellm's model string the call went to (kept with a cached answer)


def _retry_after(exc: Exception) -> float | None:
    # litellm keeps the provider's headers in `litellm_response_headers`; its `response` is
    # often a stand-in without them.
    value = None
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    ):
        if headers is not None and hasattr(headers, "get"):
            value = headers.get("retry-after") or headers.get("Retry-After")
            if value is not None:
                break
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def classify(exc: Exception) -> PredictionError:
    """Map a litellm/openai exception to one of API.md's error types."""
    if isinstance(exc, PredictionError):
        return exc
    message = f"{type(exc).__name__}: {str(exc)[:500]}"
    kinds: list[tuple[type | tuple[type, ...], ErrorType]] = [
        (litellm.Timeout, ErrorType.API_TIMEOUT),
        (asyncio.TimeoutError, ErrorType.API_TIMEOUT),
        (litellm.RateLimitError, ErrorType.RATE_LIMIT),
        ((litellm.AuthenticationError, litellm.PermissionDeniedError), ErrorType.AUTH_ERROR),
        (
            (litellm.InternalServerError, litellm.ServiceUnavailableError),
            ErrorType.SERVER_ERROR,
        ),
        (litellm.APIConnectionError, ErrorType.CONNECTION_ERROR),
    ]
    for kind, error_type in kinds:
        if isinstance(exc, kind):
            return PredictionError(error_type, message, _retry_after(exc))
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status in (401, 403):
        return PredictionError(ErrorType.AUTH_ERROR, message)
    if isinstance(status, int) and status == 429:
        return PredictionError(ErrorType.RATE_LIMIT, message, _retry_after(exc))
    if isinstance(status, int) and status >= 500:
        return PredictionError(ErrorType.SERVER_ERROR, message)
    return PredictionError(ErrorType.UNKNOWN_ERROR, message)


def prompt_messages(prompt: str) -> list[dict[str, str]]:
    """The chat messages a prompt is sent as; stored with each round exactly as sent."""
    return [{"role": "user", "content": prompt}]


async def call_once(
    target: LlmTarget,
    prompt: str,
    temperature: float,
    response_format: dict[str, Any] | None = None,
) -> LlmReply:
    """One attempt. litellm's and the OpenAI client's own retries are off: tenacity owns them."""
    started = time.perf_counter()
    extra = {"response_format": response_format} if response_format else {}
    try:
        with metrics.llm_call(target.model):
            response = await litellm.acompletion(
                model=target.model,
                messages=prompt_messages(prompt),
                temperature=temperature,
                api_base=target.api_base,
                api_key=target.api_key,
                timeout=target.timeout,
                num_retries=0,
                max_retries=0,
                **extra,
            )
    except Exception as exc:  # every provider error becomes a classified one
        error = classify(exc)
        metrics.llm_call_done(target.model, error.error_type, time.perf_counter() - started)
        raise error from exc
    latency_ms = (time.perf_counter() - started) * 1000
    text = response.choices[0].message.content or ""
    usage = getattr(response, "usage", None)
    reply = LlmReply(
        text=text,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        cost_usd=_cost(response),
        latency_ms=latency_ms,
        finish_reason=getattr(response.choices[0], "finish_reason", None),
        model=target.model,
    )
    metrics.llm_call_done(
        target.model,
        "ok",
        latency_ms / 1000,
        reply.prompt_tokens,
        reply.completion_tokens,
        reply.cost_usd,
    )
    return reply


def _cost(response: Any) -> float | None:
    """The price litellm computed for the call; None for models it has no price for (e.g.
    self-hosted ones), as API.md says. Read, not recomputed: pricing is not free."""
    cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
    return float(cost) if cost else None


def count_prompt_tokens(target: LlmTarget, prompt: str) -> int:
    """Tokens of `prompt` as sent, by litellm's counter for that model (tiktoken's default for
    models it does not know): an estimate, not what the provider will bill."""
    return int(litellm.token_counter(model=target.model, messages=prompt_messages(prompt)))


def price(target: LlmTarget, prompt_tokens: int, completion_tokens: int) -> float | None:
    """What a call of that size costs by litellm's price map; None for a model it has no price
    for (e.g. self-hosted ones)."""
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=target.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # litellm raises its own "not mapped" errors, and others for odd names
        return None
    return float(prompt_cost) + float(completion_cost)


def backoff_wait(settings: Settings) -> Callable[[RetryCallState], float]:
    """About factor × 2^attempt seconds, with jitter; never sooner than Retry-After says."""

    def wait(state: RetryCallState) -> float:
        exponential = settings.RETRY_BACKOFF_FACTOR * 2.0 ** (state.attempt_number - 1)
        delay = exponential * random.uniform(0.5, 1.0)
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, PredictionError) else None
        if hint is not None:
            delay = max(delay, hint)
        return min(delay, settings.RETRY_MAX_WAIT_SECONDS)

    return wait


def _note_retry(model: str) -> Callable[[RetryCallState], None]:
    """Before each wait: a JSON log line (task and sample come from the log context) and a count."""

    def note(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        error_type = getattr(exc, "error_type", type(exc).__name__)
        metrics.llm_retry(model, error_type)
        logger.warning(
            "LLM attempt failed; retrying",
            extra={
                "error_type": error_type,
                "attempt": state.attempt_number,
                "wait_seconds": round(state.upcoming_sleep, 3),
                "model": model,
            },
        )

    return note


async def with_retries(
    attempt: Callable[[], Awaitable[T]], settings: Settings, model: str = "unknown"
) -> T:
    """Run `attempt` until it succeeds or RETRY_MAX_ATTEMPTS attempts have failed.

    Raises the last PredictionError with `.attempts` set to how many attempts were made.
    """
    attempts = 0
    try:
        async for retry in AsyncRetrying(
            stop=stop_after_attempt(settings.RETRY_MAX_ATTEMPTS),
            wait=backoff_wait(settings),
            retry=retry_if_exception(lambda e: isinstance(e, PredictionError) and e.retryable),
            before_sleep=_note_retry(model),
            reraise=True,
        ):
            with retry:
                attempts += 1
                return await attempt()
    except PredictionError as exc:
        exc.attempts = attempts
        raise
    raise AssertionError("unreachable")
