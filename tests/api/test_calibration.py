"""An LLM task with `calibration_samples`, through the HTTP API against the fake LLM: its
calibration samples run through the queue with it, stay out of its results, and give its final
predictions intervals and its accuracy an interval coverage."""

import uuid

import pytest

from backend.workflow.task_data import calibration_rows
from tests.fakellm.server import FakeLlm
from tests.helpers import (
    ApiClient,
    reference_rows,
    sample_table,
    start_body,
    to_csv,
    unique_ids,
)

ROWS = 12


def test_an_llm_task_with_calibration_samples_gets_intervals(api: ApiClient, fake_llm: FakeLlm):
    tag = uuid.uuid4().hex[:6]
    refs = reference_rows(ROWS, prefix=f"{tag}R")  # its own ids: so are the calibration ids
    ids = unique_ids(3)
    rows = calibration_rows(ROWS, 9)
    # Calibration answers off by 5·k (UTS) and 0.2·k (El), k = 1 … 9: half-widths 45 and 1.8.
    script = {
        f"calibration-{refs[row]['ID']}": {
            "rounds": [{"UTS": refs[row]["UTS"] + 5 * k, "El": refs[row]["El"] - 0.2 * k}]
        }
        for k, row in enumerate(rows, start=1)
    }
    # Test samples (measured UTS 777, 778, 779 and El 17): UTS inside ±45, El outside ±1.8.
    script |= {i: {"rounds": [{"UTS": 780.0, "El": 30.0}]} for i in ids}
    fake_llm.script(script)

    test_path = api.upload(sample_table(ids, truth=True))
    ref_path = api.upload(to_csv(refs))
    response = api.post(
        "/api/iterative-prediction/start",
        json=start_body(test_path, ref_path, calibration_samples=9, max_iterations=3),
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "task started with 3 samples"
    task_id = response.json()["task_id"]
    task = api.wait(task_id)

    assert task["status"] == "completed"
    assert (task["total_samples"], task["converged_samples"], task["failed_samples"]) == (3, 3, 0)
    assert task["calibration_samples"] == 9 and task["progress"] == 1.0
    assert task["calibration"]["source"] == "llm_calibration"
    assert task["calibration"]["half_widths"] == {
        "UTS": pytest.approx(45.0),
        "El": pytest.approx(1.8),
    }
    # They ran as test samples do: through the queue, two rounds each (converged at round 2).
    for sample_id in script:
        assert sorted(c.round for c in fake_llm.calls(sample_id)) == [1, 2], sample_id

    history = api.history(task_id)
    assert history["global_info"]["total_samples"] == 3
    assert sorted(s["sample_id"] for s in history["samples"].values()) == sorted(ids)
    assert [s["processed_samples"] for s in history["iteration_summaries"]] == [3, 3]
    for sample in history["samples"].values():
        assert sample["intervals"]["UTS"] == {
            "lower": pytest.approx(735.0),
            "upper": pytest.approx(825.0),
            "level": 0.9,
        }
        assert sample["intervals"]["El"]["lower"] == pytest.approx(28.2)

    accuracy = api.get(f"/api/results/{task_id}/accuracy").json()
    assert accuracy["interval_coverage"] == {"UTS": 1.0, "El": 0.0}
    assert len(accuracy["scatter"]["UTS"]) == 3

    exported = api.get(f"/api/results/{task_id}/export", params={"format": "json"}).json()
    assert [r["sample_id"] for r in exported["rows"]] == ids
    assert exported["rows"][0]["UTS_upper"] == pytest.approx(825.0)

    # A calibration sample's rounds are inspectable (after the test samples), and its prompt
    # left its own reference row out of the references shown.
    first = api.get(f"/api/results/{task_id}/samples/3/rounds/1").json()
    assert first["sample_id"] == f"calibration-{refs[rows[0]]['ID']}"
    prompt = first["messages"][-1]["content"]
    assert f"| {refs[rows[0]]['ID']} |" not in prompt
    assert f"| {refs[rows[0] + 1]['ID']} |" in prompt


def test_calibration_samples_are_checked_at_start(api: ApiClient):
    test_path = api.upload(sample_table(unique_ids(1)))
    ref_path = api.upload(to_csv(reference_rows(ROWS, prefix=f"{uuid.uuid4().hex[:6]}R")))
    before = api.task_count()
    for count, message in (
        (12, "at most 11 with this reference file"),
        (201, "MAX_CALIBRATION_SAMPLES=200"),
        (10_001, "calibration_samples must be between 0 and 10000"),
        (-1, "calibration_samples must be between 0 and 10000"),
    ):
        response = api.post(
            "/api/iterative-prediction/start",
            json=start_body(test_path, ref_path, calibration_samples=count),
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "INVALID_CONFIG"
        assert message in str(response.json()["details"])
    assert api.task_count() == before
