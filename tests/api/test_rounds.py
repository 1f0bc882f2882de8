"""Every round inspectable: the messages sent, the answer, reasoning, numbers; failed rounds too."""

from tests.fakellm.server import FakeLlm
from tests.helpers import ApiClient, reference_table, sample_table, unique_ids


def test_a_round_shows_what_was_sent_and_what_came_back(api: ApiClient, fake_llm: FakeLlm):
    ok, broken = unique_ids(2)
    fake_llm.script(
        {
            ok: {"rounds": [{"UTS": 800, "El": 20}, {"UTS": 801, "El": 20}]},
            broken: {"rounds": [{"text": "no numbers here"}]},
        }
    )
    task_id = api.start(sample_table([ok, broken]), reference_table(), max_iterations=3)
    assert api.wait(task_id)["status"] == "completed"

    first = api.get(f"/api/results/{task_id}/samples/0/rounds/1").json()
    assert first["sample_id"] == ok and first["iteration"] == 1
    assert first["model"] == "fake-model" and first["error"] is None
    assert first["predictions"] == {"UTS": 800, "El": 20}
    [message] = first["messages"]
    assert message["role"] == "user"
    assert f"Sample ID: {ok}" in message["content"] and "This is round 1 of 3" in message["content"]
    assert '"predictions"' in first["raw_answer"]
    assert first["reasoning"] == {"reasoning": "scripted"}
    assert first["attempts"] == 1 and first["latency_ms"] > 0 and first["cached"] is False

    second = api.get(f"/api/results/{task_id}/samples/0/rounds/2").json()
    # Round 2's prompt carries round 1's answer: the messages differ and are each as sent.
    assert "Your earlier predictions" in second["messages"][0]["content"]
    assert "Your earlier predictions" not in message["content"]

    failed = api.get(f"/api/results/{task_id}/samples/1/rounds/1").json()
    assert failed["error"]["error_type"] == "parse_error"
    assert failed["attempts"] == 3 and failed["predictions"] == {}
    assert f"Sample ID: {broken}" in failed["messages"][0]["content"]

    for missing in ("0/rounds/3", "1/rounds/2", "2/rounds/1", "0/rounds/0", "-1/rounds/1"):
        response = api.get(f"/api/results/{task_id}/samples/{missing}")
        assert response.status_code == 404, missing
        assert response.json()["error"] == "NOT_FOUND"
    assert api.get("/api/results/999999/samples/0/rounds/1").status_code == 404


def test_a_baseline_round_sent_no_messages(api: ApiClient):
    ids = unique_ids(1)
    task_id = api.start(
        sample_table(ids), reference_table(), llm_provider="baseline", llm_model="baseline"
    )
    assert api.wait(task_id)["status"] == "completed"
    detail = api.get(f"/api/results/{task_id}/samples/0/rounds/1").json()
    assert detail["messages"] == [] and detail["raw_answer"] is None
    assert detail["model"] == "knn" and set(detail["predictions"]) == {"UTS", "El"}
