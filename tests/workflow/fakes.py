"""In-memory stand-ins for what the graph is given: a scripted Predictor and a RoundSink that
keeps what it is told. No database, no network: the graph's rules in milliseconds."""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.core.vocabulary import SampleStatus
from backend.workflow.errors import PredictionError
from backend.workflow.graph import LoopRules, SampleState, build_sample_graph, recursion_limit
from backend.workflow.predictors import Answer, Cancelled, RunLimits

Step = Mapping[str, float] | PredictionError


class ScriptedPredictor:
    """Answers round n of the sample at `position` with `scripts[position][n - 1]` (values, or
    a PredictionError to raise). Records the history it was shown on each call."""

    def __init__(self, scripts: Mapping[int, Sequence[Step]]) -> None:
        self.scripts = scripts
        self.seen: list[tuple[int, list[dict[str, float]]]] = []

    async def predict(
        self, position: int, history: Sequence[Mapping[str, float]], limits: RunLimits
    ) -> Answer:
        if limits.cancelled.is_set():
            raise Cancelled()
        self.seen.append((position, [dict(h) for h in history]))
        step = self.scripts[position][len(history)]
        if isinstance(step, PredictionError):
            raise step
        return Answer(values=dict(step))


@dataclass
class Round:
    sample_index: int
    iteration: int
    values: dict[str, float]
    status: SampleStatus
    converged_at: int | None


@dataclass
class MemorySink:
    rounds: list[Round] = field(default_factory=list)
    failures: list[tuple[int, int, PredictionError]] = field(default_factory=list)

    async def save_round(
        self,
        sample_index: int,
        iteration: int,
        answer: Answer,
        status: SampleStatus,
        converged_at: int | None,
    ) -> None:
        self.rounds.append(Round(sample_index, iteration, answer.values, status, converged_at))

    async def save_failure(self, sample_index: int, iteration: int, error: PredictionError) -> None:
        self.failures.append((sample_index, iteration, error))


def rules(**overrides: Any) -> LoopRules:
    values: dict[str, Any] = {
        "targets": ["UTS"],
        "max_iterations": 5,
        "threshold": 0.01,
        "early_stop": True,
    }
    return LoopRules(**(values | overrides))


def run_sample(
    predictor: ScriptedPredictor,
    sink: MemorySink,
    loop: LoopRules,
    *,
    history: list[dict[str, float]] | None = None,
    converged_at: int | None = None,
    cancelled: bool = False,
) -> dict[str, Any]:
    """One sample (position 0, index 7) through the graph; returns the final state."""

    async def go() -> dict[str, Any]:
        limits = RunLimits(asyncio.Semaphore(1), asyncio.Event())
        if cancelled:
            limits.cancelled.set()
        graph = build_sample_graph(predictor, sink, limits, loop)
        state: SampleState = {
            "position": 0,
            "sample_index": 7,
            "history": history or [],
            "converged_at": converged_at,
            "answer": None,
            "outcome": None,
        }
        result: dict[str, Any] = await graph.ainvoke(
            state, {"recursion_limit": recursion_limit(loop)}
        )
        return result

    return asyncio.run(go())
