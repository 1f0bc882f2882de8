"""What a configuration would cost before it starts (`preview-prompt`'s `estimate`).

Calls: every sample (an LLM task's calibration samples included) makes at least 2 rounds when
early stop can end it at round 2 (convergence needs two answers), else all `max_iterations`; at
most `max_iterations`. Retries are not counted. Tokens: litellm's counter on the prompts of the
previewed sample, round by round (later rounds carry the history table, so they are longer); the
answer's size is assumed. Cost: litellm's price map (offline copy) for those sizes; null for a
model it has no price for.
"""

from typing import Any

from backend.core.config import Settings
from backend.core.vocabulary import Provider
from backend.schemas import StartRequest
from backend.workflow.llm import count_prompt_tokens, llm_target, price
from backend.workflow.prompts import render_prompt
from backend.workflow.task_data import TaskData

# The answer is a JSON object: a short analysis and one number per target.
ASSUMED_COMPLETION_TOKENS = 300
NOTE = (
    "calls exclude retries; tokens are counted on this sample's prompts; completion tokens "
    f"are assumed ({ASSUMED_COMPLETION_TOKENS} per call); costs from litellm's price map, "
    "null for a model it has no price for"
)


def min_rounds(request: StartRequest) -> int:
    return 2 if request.early_stop and request.max_iterations >= 2 else request.max_iterations


def estimate(
    settings: Settings, request: StartRequest, data: TaskData, samples: int
) -> dict[str, Any]:
    """`data` holds the previewed sample alone; the task has `samples` test samples."""
    if request.llm_provider != Provider.BASELINE:
        samples += request.calibration_samples  # predicted like test samples, paid the same
    rounds_min, rounds_max = min_rounds(request), request.max_iterations
    result: dict[str, Any] = {
        "samples": samples,
        "calls_min": samples * rounds_min,
        "calls_max": samples * rounds_max,
        "completion_tokens_per_call": ASSUMED_COMPLETION_TOKENS,
        "note": NOTE,
    }
    if request.llm_provider == Provider.BASELINE:
        return result | {
            "calls_min": 0,
            "calls_max": 0,
            "prompt_tokens_per_call": 0,
            "prompt_tokens_per_call_max": 0,
            "completion_tokens_per_call": 0,
            "cost_usd_min": 0.0,
            "cost_usd_max": 0.0,
        }
    target = llm_target(request.llm_provider, request.llm_model, settings)
    # A plausible history (the reference mean of each target) makes later rounds' prompts.
    means = data.reference_targets.mean(axis=0) if data.reference_targets.size else []
    previous = {t: float(m) for t, m in zip(data.targets, means, strict=False)}
    tokens = [
        count_prompt_tokens(
            target,
            render_prompt(
                data,
                0,
                [previous] * done,
                max_rounds=request.max_iterations,
                threshold=request.convergence_threshold,
            ),
        )
        for done in range(rounds_max)
    ]
    costs = [price(target, n, ASSUMED_COMPLETION_TOKENS) for n in tokens]
    priced = all(c is not None for c in costs)
    return result | {
        "prompt_tokens_per_call": tokens[0],
        "prompt_tokens_per_call_max": max(tokens),
        "cost_usd_min": samples * sum(c or 0.0 for c in costs[:rounds_min]) if priced else None,
        "cost_usd_max": samples * sum(c or 0.0 for c in costs) if priced else None,
    }
