"""Every bad input to `start` answers 4xx with the envelope and creates no task."""

from typing import Any

import pytest

from tests.helpers import ApiClient, reference_table, sample_table, start_body, unique_ids


@pytest.fixture
def paths(api: ApiClient) -> tuple[str, str]:
    return api.upload(sample_table(unique_ids(2), truth=True)), api.upload(reference_table())


RANGE_CASES = [
    ("max_iterations", 0, "max_iterations must be between 1 and 10"),
    ("max_iterations", 11, "max_iterations must be between 1 and 10"),
    ("convergence_threshold", 0.0005, "convergence_threshold must be between 0.001 and 0.1"),
    ("convergence_threshold", 0.2, "convergence_threshold must be between 0.001 and 0.1"),
    ("max_workers", 0, "max_workers must be between 1 and 20"),
    ("max_workers", 21, "max_workers must be between 1 and 20"),
    ("temperature", -0.1, "temperature must be between 0.0 and 2.0"),
    ("temperature", 2.5, "temperature must be between 0.0 and 2.0"),
    ("reference_top_k", 0, "reference_top_k must be between 1 and 50"),
    ("priority", -1001, "priority must be between -1000 and 1000"),
    ("priority", 1001, "priority must be between -1000 and 1000"),
    ("max_cost_usd", 0, "max_cost_usd must be greater than 0.0"),
    ("max_cost_usd", -1.5, "max_cost_usd must be greater than 0.0"),
]


@pytest.mark.parametrize(("field", "value", "message"), RANGE_CASES)
def test_out_of_range_fields_are_named_with_their_range(
    api: ApiClient, paths: tuple[str, str], field: str, value: float, message: str
):
    before = api.task_count()
    change: dict[str, Any] = {field: value}
    response = api.post("/api/iterative-prediction/start", json=start_body(*paths, **change))
    assert response.status_code == 400
    assert response.json() == {"error": "INVALID_CONFIG", "details": [message]}
    assert api.task_count() == before


CONFIG_CASES = [
    ({"task_name": ""}, 400, "task_name"),
    ({"task_name": "x" * 256}, 400, "task_name"),
    ({"enable_iteration": False}, 400, "enable_iteration must be true"),
    ({"target_properties": []}, 400, "target_properties"),
    ({"target_properties": ["Hardness"]}, 400, "Hardness"),
    ({"target_properties": ["Processing"]}, 400, "not numeric"),
    ({"llm_provider": "acme"}, 400, "llm_provider must be one of"),
    ({"feature_columns": ["Cu"]}, 400, "feature_columns"),
    ({"id_column": "Serial"}, 400, "id_column"),
    ({"test_file_path": "datasets/nope.csv"}, 400, "no such dataset"),
    ({"test_file_path": "../../etc/passwd"}, 400, "is not a dataset"),
    ({"reference_file_path": "/etc/passwd"}, 400, "is not a dataset"),
    ({"max_iterations": "five"}, 422, "max_iterations"),
    ({"target_properties": "UTS"}, 422, "target_properties"),
]


@pytest.mark.parametrize(("change", "status", "fragment"), CONFIG_CASES)
def test_bad_configuration_creates_no_task(
    api: ApiClient, paths: tuple[str, str], change: dict, status: int, fragment: str
):
    before = api.task_count()
    response = api.post("/api/iterative-prediction/start", json=start_body(*paths, **change))
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == "INVALID_CONFIG"
    assert fragment in str(body["details"])
    assert "Traceback" not in response.text
    assert api.task_count() == before


def test_missing_required_fields_are_422(api: ApiClient):
    response = api.post("/api/iterative-prediction/start", json={"task_name": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_CONFIG"
    assert "test_file_path is required" in body["details"]


def test_not_json_is_422(api: ApiClient):
    response = api.post(
        "/api/iterative-prediction/start",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["error"] == "INVALID_CONFIG"


def test_symlink_out_of_the_data_dir_is_refused(api: ApiClient, paths: tuple[str, str]):
    assert api.data_dir is not None
    link = api.data_dir / "datasets" / "escape.csv"
    link.symlink_to("/etc/hostname")
    response = api.post(
        "/api/iterative-prediction/start",
        json=start_body("datasets/escape.csv", paths[1]),
    )
    assert response.status_code == 400
    assert "is not a dataset" in str(response.json()["details"])


def test_provider_without_credentials_is_503(api: ApiClient, paths: tuple[str, str]):
    before = api.task_count()
    body = start_body(*paths, llm_provider="gemini", llm_model="gemini-2.0-flash")
    response = api.post("/api/iterative-prediction/start", json=body)
    assert response.status_code == 503
    assert response.json()["error"] == "LLM_API_ERROR"
    assert "GEMINI_API_KEY" in response.json()["details"]
    assert api.task_count() == before


def test_a_good_request_answers_as_documented(api: ApiClient, paths: tuple[str, str]):
    body = start_body(*paths, llm_provider="baseline", priority=-7, max_cost_usd=0.25)
    response = api.post("/api/iterative-prediction/start", json=body)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"task_id", "task_name", "status", "created_at", "message"}
    assert body["status"] in ("pending", "running")
    task = api.wait(body["task_id"])
    assert task["status"] == "completed" and task["is_baseline"] is True
    assert "baseline" in task["provider_label"]
    assert task["priority"] == -7 and task["max_cost_usd"] == 0.25
    assert task["queue_position"] is None  # not pending
    zeros = {"llm_calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0}
    assert task["usage"] == zeros | {"cost_usd": 0.0}


def test_unknown_task_is_404(api: ApiClient):
    for path in ("/api/tasks/424242", "/api/results/424242/iterations"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"] in ("TASK_NOT_FOUND", "NOT_FOUND")
    stats = api.get("/api/iterative-prediction/convergence-stats", params={"task_id": 424242})
    assert stats.status_code == 404
    assert api.post("/api/tasks/424242/cancel").status_code == 404


def test_ids_beyond_the_database_range_are_client_errors(api: ApiClient):
    huge = 2_432_902_008_176_640_000
    for path in (f"/api/tasks/{huge}", f"/api/results/{huge}/iterations", f"/api/datasets/{huge}"):
        response = api.get(path)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"] == "INVALID_CONFIG"
    retry = api.post("/api/iterative-prediction/retry-failed", json={"task_id": huge})
    assert retry.status_code == 400


def test_accuracy_without_known_values_is_empty_not_an_error(api: ApiClient):
    paths = api.upload(sample_table(unique_ids(2))), api.upload(reference_table())
    response = api.post(
        "/api/iterative-prediction/start", json=start_body(*paths, llm_provider="baseline")
    )
    task_id = response.json()["task_id"]
    api.wait(task_id)
    accuracy = api.get(f"/api/results/{task_id}/accuracy")
    assert accuracy.status_code == 200
    assert accuracy.json() == {
        "task_id": task_id,
        "has_ground_truth": False,
        "targets": {},
        "scatter": {},
        "interval_coverage": {},
    }


def test_preview_prompt_answers_an_estimate_and_creates_no_task(
    api: ApiClient, paths: tuple[str, str]
):
    before = api.task_count()
    body = start_body(*paths, max_iterations=4) | {"sample_index": 1}
    response = api.post("/api/iterative-prediction/preview-prompt", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["sample_index"] == 1 and "Sample ID" in answer["prompt"]
    estimate = answer["estimate"]
    assert estimate["samples"] == 2
    assert (estimate["calls_min"], estimate["calls_max"]) == (4, 8)
    assert estimate["prompt_tokens_per_call"] > 0
    assert estimate["cost_usd_min"] is None and estimate["cost_usd_max"] is None  # no price
    assert api.task_count() == before
