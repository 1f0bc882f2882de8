"""Predictors: the LLM (through litellm) and the `baseline`, a distance-weighted kNN.

Both answer one round for one sample. Neither touches the database.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.config import Settings
from backend.core.vocabulary import ErrorType
from backend.workflow.answers import parse_predictions
from backend.workflow.calls import AnswerCache, CallGate, cache_key
from backend.workflow.errors import PredictionError
from backend.workflow.knn import knn_weighted
from backend.workflow.llm import LlmReply, call_once, llm_target, prompt_messages, with_retries
from backend.workflow.prompts import render_prompt
from backend.workflow.structured import response_format_for
from backend.workflow.task_data import TaskData

BASELINE_LABEL = "baseline (distance-weighted kNN, no LLM)"
logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """The task was cancelled before this call was made."""


@dataclass
class Answer:
    values: dict[str, float]
    raw: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    attempts: int = 1
    # What was sent (exactly) and the model's structured analysis, for the round's inspection.
    messages: list[dict[str, str]] | None = None
    reasoning: dict[str, Any] | None = None
    # Answered from the answer cache: no provider call (attempts 0, cost 0).
    cached: bool = False


@dataclass(frozen=True)
class RunLimits:
    """Shared by every sample of a task: the call slots and the cancel flag."""

    slots: asyncio.Semaphore
    cancelled: asyncio.Event


class Predictor(Protocol):
    async def predict(
        self, position: int, history: Sequence[Mapping[str, float]], limits: RunLimits
    ) -> Answer: ...


class BaselinePredictor:
    """Weighted mean of the k nearest references' targets (weights 1/distance). Deterministic:
    it ignores the history, so its second round repeats the first and the sample converges."""

    def __init__(self, data: TaskData) -> None:
        # Once for the whole task.
        self._values = knn_weighted(data.reference_targets, data.neighbours, data.distances)
        self._targets = data.targets

    async def predict(
        self, position: int, history: Sequence[Mapping[str, float]], limits: RunLimits
    ) -> Answer:
        if limits.cancelled.is_set():
            raise Cancelled()
        row = self._values[position]
        return Answer(values={t: float(v) for t, v in zip(self._targets, row, strict=True)})


class LlmPredictor:
    """One round through litellm. Each attempt holds, in order: a slot of the task's own
    `limits.slots`, then every gate of `gates` (provider-wide limits shared by all processes).
    At temperature 0 an identical call is answered from `cache` when it holds one."""

    def __init__(
        self,
        data: TaskData,
        settings: Settings,
        *,
        provider: str,
        model: str,
        temperature: float,
        max_rounds: int,
        threshold: float,
        gates: Sequence[CallGate] = (),
        cache: AnswerCache | None = None,
    ) -> None:
        self._data = data
        self._settings = settings
        self._provider = provider
        self._model = model
        self._target = llm_target(provider, model, settings)
        self._temperature = temperature
        self._max_rounds = max_rounds
        self._threshold = threshold
        self._response_format = response_format_for(self._target.model, data.targets)
        self._gates = tuple(gates)
        # Only a deterministic call may be answered again.
        self._cache = cache if temperature == 0 else None

    def _parse(self, reply: LlmReply) -> tuple[dict[str, float], dict[str, Any] | None]:
        try:
            return parse_predictions(
                reply.text,
                self._data.targets,
                self._data.bounds,
                repair=reply.finish_reason != "length",
            )
        except PredictionError as exc:
            exc.message = f"{exc.message}; answer began: {reply.text[:200]!r}"
            raise

    async def _from_cache(self, key: str, messages: list[dict[str, str]]) -> Answer | None:
        """The cached answer of this call, if one is kept and still parses. The cache is an
        optimisation: when it cannot be read, the provider is asked."""
        assert self._cache is not None
        started = time.perf_counter()
        try:
            reply = await self._cache.get(key)
        except Exception:
            logger.warning("answer cache unreadable; asking the provider", exc_info=True)
            return None
        if reply is None:
            return None
        try:
            values, reasoning = self._parse(reply)
        except PredictionError:
            return None
        return Answer(
            values=values,
            raw=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=0.0,
            latency_ms=(time.perf_counter() - started) * 1000,
            attempts=0,
            messages=messages,
            reasoning=reasoning,
            cached=True,
        )

    async def _keep(self, key: str, reply: LlmReply) -> None:
        assert self._cache is not None
        try:
            await self._cache.put(key, reply)
        except Exception:
            logger.warning("answer not cached", exc_info=True)

    async def _pause_gates(self, seconds: float) -> None:
        for gate in self._gates:
            await gate.pause(seconds)

    async def predict(
        self, position: int, history: Sequence[Mapping[str, float]], limits: RunLimits
    ) -> Answer:
        prompt = render_prompt(
            self._data,
            position,
            history,
            max_rounds=self._max_rounds,
            threshold=self._threshold,
        )
        messages = prompt_messages(prompt)
        key = ""
        if self._cache is not None:
            if limits.cancelled.is_set():
                raise Cancelled()
            key = cache_key(self._provider, self._model, messages)
            hit = await self._from_cache(key, messages)
            if hit is not None:
                return hit
        attempts = 0
        reasoning: dict[str, Any] | None = None

        async def attempt() -> tuple[LlmReply, dict[str, float]]:
            nonlocal reasoning
            nonlocal attempts
            try:
                async with limits.slots:
                    # Checked once the slot is ours: a cancel (or a 401 elsewhere) may have
                    # come while this sample waited for it.
                    if limits.cancelled.is_set():
                        raise Cancelled()
                    async with contextlib.AsyncExitStack() as held:
                        for gate in self._gates:
                            await held.enter_async_context(gate.call())
                        if self._gates and limits.cancelled.is_set():
                            raise Cancelled()  # the gates may have kept it waiting
                        attempts += 1
                        reply = await call_once(
                            self._target, prompt, self._temperature, self._response_format
                        )
            except PredictionError as exc:
                # Every caller of this provider slows down, not only this one (for as long as
                # this caller's own backoff would wait at most).
                if exc.error_type == ErrorType.RATE_LIMIT and exc.retry_after:
                    await self._pause_gates(
                        min(exc.retry_after, self._settings.RETRY_MAX_WAIT_SECONDS)
                    )
                raise
            values, reasoning = self._parse(reply)
            return reply, values

        try:
            reply, values = await with_retries(attempt, self._settings, self._target.model)
        except PredictionError as exc:
            exc.messages = messages  # a failed round is inspectable too
            raise
        if self._cache is not None:
            await self._keep(key, reply)  # only an answer that parsed
        return Answer(
            values=values,
            raw=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=reply.cost_usd,
            latency_ms=reply.latency_ms,
            attempts=attempts,
            messages=messages,
            reasoning=reasoning,
        )
