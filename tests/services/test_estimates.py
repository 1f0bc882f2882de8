"""`preview-prompt`'s estimate: calls, tokens and cost before a task starts."""

from pathlib import Path
from typing import Any

import litellm
import pytest

from backend.core.config import Settings
from backend.schemas import PromptPreviewRequest
from backend.services.estimates import ASSUMED_COMPLETION_TOKENS
from backend.services.tasks import preview_prompt
from backend.workflow.llm import prompt_messages
from tests.helpers import reference_table, sample_table


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "test.csv").write_text(sample_table([f"S{i}" for i in range(7)]))
    (datasets / "reference.csv").write_text(reference_table())
    return Settings(DATA_DIR=tmp_path, LLM_API_BASE="http://127.0.0.1:9/v1")


def preview(settings: Settings, **config: Any) -> dict[str, Any]:
    body = {
        "task_name": "estimate",
        "test_file_path": "datasets/test.csv",
        "reference_file_path": "datasets/reference.csv",
        "target_properties": ["UTS", "El"],
        "llm_provider": "openai",
        "llm_model": "gpt-4o-mini",
        "max_iterations": 5,
        "early_stop": True,
    } | config
    return preview_prompt(settings, PromptPreviewRequest.model_validate(body))


def test_calls_tokens_and_cost_of_a_priced_model(settings: Settings):
    answer = preview(settings, sample_index=2)
    estimate = answer["estimate"]
    assert estimate["samples"] == 7
    assert (estimate["calls_min"], estimate["calls_max"]) == (7 * 2, 7 * 5)
    # litellm's counter on the round-1 prompt exactly as it is sent
    first = litellm.token_counter(
        model="openai/gpt-4o-mini", messages=prompt_messages(answer["prompt"])
    )
    assert estimate["prompt_tokens_per_call"] == first > 50
    assert estimate["prompt_tokens_per_call_max"] > first  # later rounds carry the history
    assert estimate["completion_tokens_per_call"] == ASSUMED_COMPLETION_TOKENS
    prompt_price, completion_price = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1
    )
    round_one = first * prompt_price + ASSUMED_COMPLETION_TOKENS * completion_price
    low, high = estimate["cost_usd_min"], estimate["cost_usd_max"]
    assert low is not None and high is not None
    assert 7 * 2 * round_one <= low < high
    longest = estimate["prompt_tokens_per_call_max"] * prompt_price
    assert high <= 7 * 5 * (longest + ASSUMED_COMPLETION_TOKENS * completion_price) + 1e-12
    assert "assumed" in estimate["note"]


@pytest.mark.parametrize(
    ("config", "calls"),
    [
        ({"early_stop": False}, (35, 35)),
        ({"max_iterations": 1}, (7, 7)),
        ({"max_iterations": 2}, (14, 14)),
        ({"max_iterations": 10}, (14, 70)),
    ],
)
def test_calls_follow_early_stop_and_max_iterations(
    settings: Settings, config: dict[str, Any], calls: tuple[int, int]
):
    estimate = preview(settings, **config)["estimate"]
    assert (estimate["calls_min"], estimate["calls_max"]) == calls


def test_a_model_without_a_price_has_null_costs(settings: Settings):
    estimate = preview(settings, llm_model="my-local-model")["estimate"]
    assert estimate["prompt_tokens_per_call"] > 0
    assert estimate["cost_usd_min"] is None and estimate["cost_usd_max"] is None


def test_the_baseline_costs_nothing(settings: Settings):
    estimate = preview(settings, llm_provider="baseline", llm_model="baseline")["estimate"]
    assert estimate["samples"] == 7
    assert estimate["calls_min"] == estimate["calls_max"] == 0
    assert estimate["prompt_tokens_per_call"] == 0
    assert estimate["cost_usd_min"] == estimate["cost_usd_max"] == 0.0
