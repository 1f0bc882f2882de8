"""The per-sample loop as a LangGraph graph: predict → record → predict again or stop.

Each sample runs its own graph; samples never wait for each other (no round barrier). What
"record" stores and how is the caller's business: the graph receives a `RoundSink`.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph

from backend.core.vocabulary import ErrorType, SampleStatus
from backend.workflow.convergence import is_converged, relative_change
from backend.workflow.errors import PredictionError, TaskAuthError
from backend.workflow.predictors import Answer, Cancelled, Predictor, RunLimits

# How a sample's loop ended; None while it goes on. A cancelled sample keeps its stored status.
Outcome = Literal[
    SampleStatus.CONVERGED, SampleStatus.NOT_CONVERGED, SampleStatus.FAILED, "cancelled"
]
logger = logging.getLogger(__name__)


class SampleState(TypedDict):
    position: int
    sample_index: int
    history: list[dict[str, float]]
    converged_at: int | None
    answer: Answer | None
    outcome: Outcome | None


class RoundSink(Protocol):
    async def save_round(
        self,
        sample_index: int,
        iteration: int,
        answer: Answer,
        status: SampleStatus,
        converged_at: int | None,
    ) -> None: ...

    async def save_failure(
        self, sample_index: int, iteration: int, error: PredictionError
    ) -> None: ...


@dataclass(frozen=True)
class LoopRules:
    targets: list[str]
    max_iterations: int
    threshold: float
    early_stop: bool


def round_converged(
    previous: Mapping[str, float], current: Mapping[str, float], rules: LoopRules
) -> bool:
    return all(
        is_converged(relative_change(previous[t], current[t]), rules.threshold)
        for t in rules.targets
    )


def next_outcome(rounds: int, converged_at: int | None, rules: LoopRules) -> Outcome | None:
    if converged_at is not None and rules.early_stop:
        return SampleStatus.CONVERGED
    if rounds >= rules.max_iterations:
        return SampleStatus.CONVERGED if converged_at is not None else SampleStatus.NOT_CONVERGED
    return None


def recursion_limit(rules: LoopRules) -> int:
    # Two steps per round, plus slack; LangGraph's default (25) would cut 10 rounds short.
    return 2 * rules.max_iterations + 10


def build_sample_graph(
    predictor: Predictor, sink: RoundSink, limits: RunLimits, rules: LoopRules
) -> Any:
    async def predict(state: SampleState) -> dict[str, Any]:
        iteration = len(state["history"]) + 1
        try:
            answer = await predictor.predict(state["position"], state["history"], limits)
        except Cancelled:
            return {"answer": None, "outcome": "cancelled"}
        except PredictionError as exc:
            # task_id and sample_index come from the log context the worker sets.
            logger.warning(
                "LLM credentials rejected"
                if exc.error_type == ErrorType.AUTH_ERROR
                else "sample failed",
                extra={"error_type": exc.error_type, "iteration": iteration, "error": exc.message},
            )
            if exc.error_type == ErrorType.AUTH_ERROR:
                limits.cancelled.set()  # no other sample may call with these credentials
            await sink.save_failure(state["sample_index"], iteration, exc)
            if exc.error_type == ErrorType.AUTH_ERROR:
                raise TaskAuthError(exc.message) from exc
            return {"answer": None, "outcome": SampleStatus.FAILED}
        return {"answer": answer}

    async def record(state: SampleState) -> dict[str, Any]:
        answer = state["answer"]
        assert answer is not None
        history = [*state["history"], answer.values]
        converged_at = state["converged_at"]
        if (
            converged_at is None
            and len(history) >= 2
            and round_converged(history[-2], history[-1], rules)
        ):
            converged_at = len(history)
        outcome = next_outcome(len(history), converged_at, rules)
        status = SampleStatus(outcome) if outcome else SampleStatus.RUNNING
        await sink.save_round(state["sample_index"], len(history), answer, status, converged_at)
        return {
            "history": history,
            "converged_at": converged_at,
            "answer": None,
            "outcome": outcome,
        }

    def after_predict(state: SampleState) -> str:
        return "record" if state["answer"] is not None else END

    def after_record(state: SampleState) -> str:
        return END if state["outcome"] else "predict"

    graph = StateGraph(SampleState)
    graph.add_node("predict", predict)
    graph.add_node("record", record)
    graph.add_edge(START, "predict")
    graph.add_conditional_edges("predict", after_predict, ["record", END])
    graph.add_conditional_edges("record", after_record, ["predict", END])
    return graph.compile()
