"""Budgets and the answer cache through the HTTP API, with a priced model (litellm's price of
gpt-4o-mini) answered by the fake LLM."""

from tests.fakellm.server import FakeLlm
from tests.helpers import ApiClient, reference_table, sample_table, unique_ids


def test_a_task_stops_when_its_budget_is_spent(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(20, prefix="B")
    # Never converges: without a budget, 20 samples × 5 rounds = 100 calls.
    fake_llm.script(
        {i: {"rounds": [{"UTS": 100 * 1.2**k, "El": 10 * 1.2**k} for k in range(5)]} for i in ids}
    )
    task_id = api.start(
        sample_table(ids),
        reference_table(),
        llm_model="gpt-4o-mini",
        max_iterations=5,
        max_workers=2,
        max_cost_usd=0.0005,
    )
    task = api.wait(task_id)
    assert task["status"] == "completed"
    assert task["early_stop_reason"] == "budget_exhausted"
    usage = task["usage"]
    assert usage["cost_usd"] >= 0.0005  # reached; calls in flight may pass it a little
    assert 0 < usage["llm_calls"] < 30
    assert len(fake_llm.calls()) and sum(len(fake_llm.calls(i)) for i in ids) == usage["llm_calls"]
    # Nothing is left pending or running; the stopped samples can be continued by a retry.
    history = api.history(task_id)
    assert {s["convergence_status"] for s in history["samples"].values()} == {"not_converged"}
    retry = api.post("/api/iterative-prediction/retry-failed", json={"task_id": task_id})
    assert retry.status_code == 200, retry.text
    assert len(retry.json()["retrying_samples"]) == len(ids)


def test_an_identical_run_at_temperature_zero_is_answered_from_the_cache(
    api: ApiClient, fake_llm: FakeLlm
):
    ids = unique_ids(3, prefix="H")
    fake_llm.script({i: {"rounds": [{"UTS": 800, "El": 20}] * 2} for i in ids})
    test, reference = sample_table(ids), reference_table()
    first = api.wait(api.start(test, reference, temperature=0.0, max_iterations=3))
    asked = sum(len(fake_llm.calls(i)) for i in ids)
    second = api.wait(api.start(test, reference, temperature=0.0, max_iterations=3))
    assert sum(len(fake_llm.calls(i)) for i in ids) == asked  # no call at all
    assert first["usage"]["llm_calls"] == asked == 6 and first["usage"]["cache_hits"] == 0
    assert second["usage"] == {
        "llm_calls": 0,
        "cache_hits": 6,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
    }
    assert second["converged_samples"] == 3
    round_one = api.get(f"/api/results/{second['task_id']}/samples/0/rounds/1").json()
    assert round_one["cached"] is True and round_one["raw_answer"]
