"""Predictors: the LLM (through litellm) and the `baseline`, a distance-weighted kNN.

Both answer one round for one sample. Neither touches the database.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.config import Settings
from backend.workflow.answers import parse_predictions
from backend.workflow.errors import PredictionError
from backend.workflow.knn import knn_weighted
from backend.workflow.llm import LlmReply, call_once, llm_target, prompt_messages, with_retries
from backend.workflow.prompts import render_prompt
from backend.workflow.structured import response_format_for
from backend.workflow.task_data import TaskData

BASELINE_LABEL = "baseline (distance-weighted kNN, no LLM)"


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
    cached: bool = False  # answered from the answer cache: no provider call, nothing paid


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
    ) -> None:
        self._data = data
        self._settings = settings
        self._target = llm_target(provider, model, settings)
        self._temperature = temperature
        self._max_rounds = max_rounds
        self._threshold = threshold
        self._response_format = response_format_for(self._target.model, data.targets)

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
        attempts = 0
        reasoning: dict[str, Any] | None = None

        async def attempt() -> tuple[LlmReply, dict[str, float]]:
            nonlocal reasoning
            nonlocal attempts
            async with limits.slots:
                # Checked once the slot is ours: a cancel (or a 401 elsewhere) may have come
                # while this sample waited for it.
                if limits.cancelled.is_set():
                    raise Cancelled()
                attempts += 1
                reply = await call_once(
                    self._target, prompt, self._temperature, self._response_format
                )
            try:
                values, reasoning = parse_predictions(
                    reply.text,
                    self._data.targets,
                    self._data.bounds,
                    repair=reply.finish_reason != "length",
                )
            except PredictionError as exc:
                exc.message = f"{exc.message}; answer began: {reply.text[:200]!r}"
                raise
            return reply, values

        try:
            reply, values = await with_retries(attempt, self._settings, self._target.model)
        except PredictionError as exc:
            exc.messages = prompt_messages(prompt)  # a failed round is inspectable too
            raise
        return Answer(
            values=values,
            raw=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=reply.cost_usd,
            latency_ms=reply.latency_ms,
            attempts=attempts,
            messages=prompt_messages(prompt),
            reasoning=reasoning,
        )
