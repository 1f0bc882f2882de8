"""Server-side export (formula-safe CSV, JSON; final and per-round) and runs compared."""

import csv
import io

from tests.fakellm.server import FakeLlm
from tests.helpers import ApiClient, reference_table, sample_table, to_csv, unique_ids


def test_export_final_and_rounds_as_csv_and_json(api: ApiClient, fake_llm: FakeLlm):
    [a] = unique_ids(1)
    risky = f"=HYPERLINK({a})"
    fake_llm.script(
        {
            a: {"rounds": [{"UTS": 800, "El": 2.5}, {"UTS": 801, "El": 2.5}]},
            risky: {"rounds": [{"UTS": 600, "El": 10}]},
        }
    )
    task_id = api.start(sample_table([a, risky]), reference_table(), max_iterations=3)
    assert api.wait(task_id)["status"] == "completed"

    response = api.get(f"/api/results/{task_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="task-{task_id}-final.csv"'
    lines = response.text.splitlines()
    assert lines[0] == "sample_index,sample_id,status,converged_at_iteration,UTS,El"
    # A text cell a spreadsheet would run gets a leading quote; numbers stay numbers.
    assert lines[1] == f"0,{a},converged,2,801.0,2.5"
    assert lines[2] == f"1,'{risky},converged,2,600.0,10.0"

    rounds = list(
        csv.DictReader(
            io.StringIO(api.get(f"/api/results/{task_id}/export", params={"layout": "rounds"}).text)
        )
    )
    assert [(r["sample_index"], r["iteration"], r["UTS"]) for r in rounds] == [
        ("0", "1", "800.0"),
        ("0", "2", "801.0"),
        ("1", "1", "600.0"),
        ("1", "2", "600.0"),
    ]

    document = api.get(
        f"/api/results/{task_id}/export", params={"format": "json", "layout": "rounds"}
    )
    assert document.headers["content-type"] == "application/json"
    body = document.json()
    assert body["columns"] == ["sample_index", "sample_id", "iteration", "UTS", "El"]
    assert body["rows"][0] == {
        "sample_index": 0,
        "sample_id": a,
        "iteration": 1,
        "UTS": 800,
        "El": 2.5,
    }
    # JSON is not a spreadsheet: values as they are.
    assert body["rows"][2]["sample_id"] == risky

    bad = api.get(f"/api/results/{task_id}/export", params={"format": "xlsx"})
    assert bad.status_code == 422 and bad.json()["error"] == "INVALID_CONFIG"
    assert api.get("/api/results/999999/export").status_code == 404


def test_baseline_export_and_history_carry_intervals(api: ApiClient):
    ids = unique_ids(3)
    task_id = api.start(
        sample_table(ids, truth=True),
        reference_table(20),
        llm_provider="baseline",
        llm_model="baseline",
    )
    assert api.wait(task_id)["status"] == "completed"
    sample = api.history(task_id)["samples"]["sample_0"]
    for target in ("UTS", "El"):
        interval = sample["intervals"][target]
        assert interval["level"] == 0.9
        assert interval["lower"] < sample["final_predictions"][target] < interval["upper"]
    header = api.get(f"/api/results/{task_id}/export").text.splitlines()[0].split(",")
    assert header[-4:] == ["UTS_lower", "UTS_upper", "El_lower", "El_upper"]
    coverage = api.get(f"/api/results/{task_id}/accuracy").json()["interval_coverage"]
    assert set(coverage) == {"UTS", "El"}
    assert all(0.0 <= c <= 1.0 for c in coverage.values())


def test_compare_adds_the_baseline_on_the_same_test_file(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(2)
    fake_llm.script({i: {"rounds": [{"UTS": 790, "El": 18}]} for i in ids})
    test_path = api.upload(sample_table(ids, truth=True))
    reference_path = api.upload(reference_table())

    def start(**config):
        from tests.helpers import start_body

        response = api.post(
            "/api/iterative-prediction/start", json=start_body(test_path, reference_path, **config)
        )
        assert response.status_code == 200, response.text
        return response.json()["task_id"]

    first, second = start(task_name="llm a"), start(task_name="llm b", max_iterations=2)
    for task_id in (first, second):
        assert api.wait(task_id)["status"] == "completed"
    started = api.post(f"/api/tasks/{first}/baseline")
    assert started.status_code == 200, started.text
    baseline = started.json()["task_id"]
    assert api.wait(baseline)["status"] == "completed"

    body = api.get("/api/compare", params={"task_ids": f"{first},{second}"}).json()
    assert body["same_test_file"] is True
    rows = {r["task_id"]: r for r in body["tasks"]}
    assert list(rows) == [first, second, baseline]
    assert rows[baseline]["added_as_baseline"] and rows[baseline]["llm_provider"] == "baseline"
    assert not rows[first]["added_as_baseline"]
    final = rows[first]["accuracy"]["targets"]["UTS"]["final"]
    assert final["n"] == 2 and abs(final["mae"] - abs(790 - 777.5)) < 1e-9
    assert rows[first]["convergence"]["converged_samples"] == 2
    assert rows[first]["test_file_path"] == test_path
    for task_id, row in rows.items():  # usage as the task view reports it
        assert row["usage"] == api.task(task_id)["usage"]
    assert rows[baseline]["usage"]["llm_calls"] == 0 and rows[baseline]["usage"]["cost_usd"] == 0


def test_compare_rejects_bad_id_lists(api: ApiClient):
    ids = unique_ids(1)
    one = api.start(sample_table(ids), reference_table(), llm_provider="baseline")
    other = api.start(
        to_csv([{"ID": "x", "Fe": 1.0, "Ni": 2.0, "Processing": "CAST"}]),
        reference_table(),
        llm_provider="baseline",
    )
    assert api.get("/api/compare", params={"task_ids": str(one)}).status_code == 400
    assert api.get("/api/compare", params={"task_ids": "1,x"}).status_code == 400
    eleven = ",".join(str(i) for i in range(1, 12))
    assert api.get("/api/compare", params={"task_ids": eleven}).status_code == 400
    missing = api.get("/api/compare", params={"task_ids": f"{one},999999"})
    assert missing.status_code == 404 and missing.json()["error"] == "TASK_NOT_FOUND"
    api.wait(one), api.wait(other)
    body = api.get("/api/compare", params={"task_ids": f"{one},{other}"}).json()
    assert body["same_test_file"] is False
