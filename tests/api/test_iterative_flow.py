"""The loop through the HTTP API, against the scripted fake LLM over real HTTP."""

from tests.fakellm.server import FakeLlm
from tests.helpers import ApiClient, reference_table, sample_table, unique_ids, wait_until


def values(uts: float, el: float) -> dict[str, float]:
    return {"UTS": uts, "El": el}


def test_each_sample_stops_at_its_own_convergence_round(api: ApiClient, fake_llm: FakeLlm):
    a, b, c = unique_ids(3)
    fake_llm.script(
        {
            # converged at round 2: both targets move less than 1 %
            a: {"rounds": [values(800, 20), values(804, 20.1)]},
            # UTS converges at round 2 but El only at 3: the sample converges at 3
            b: {"rounds": [values(800, 20), values(801, 25), values(802, 25.1)]},
            # never converges: changes of 5 % every round
            c: {"rounds": [values(100 * 1.05**k, 20 * 1.05**k) for k in range(5)]},
        }
    )
    task_id = api.start(sample_table([a, b, c]), reference_table(), max_iterations=5)
    task = api.wait(task_id)
    assert task["status"] == "completed"
    assert (task["converged_samples"], task["failed_samples"], task["total_samples"]) == (2, 0, 3)
    assert task["current_iteration"] == 5 and task["progress"] == 1.0

    history = api.history(task_id)
    samples = {s["sample_id"]: s for s in history["samples"].values()}
    assert samples[a]["converged_at_iteration"] == 2
    assert samples[b]["converged_at_iteration"] == 3
    assert samples[c]["converged_at_iteration"] is None
    assert samples[c]["convergence_status"] == "not_converged"
    # A converged sample is not asked again.
    assert {c.round for c in fake_llm.calls(a)} == {1, 2}
    assert {c.round for c in fake_llm.calls(b)} == {1, 2, 3}
    assert len(fake_llm.calls(c)) == 5
    uts = samples[b]["targets"]["UTS"]
    assert uts["iterations"] == [800, 801, 802]
    assert uts["relative_changes"][0] is None
    assert abs(uts["relative_changes"][1] - 1 / 800) < 1e-9
    assert (
        uts["converged_at_iteration"] == 3 == samples[b]["targets"]["El"]["converged_at_iteration"]
    )
    assert samples[b]["final_predictions"] == {"UTS": 802, "El": 25.1}
    assert history["global_info"]["early_stop_reason"] == "max_iterations_reached"
    assert history["global_info"]["total_iterations"] == 5


def test_all_converged_ends_the_task_early(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(2)
    fake_llm.script({i: {"rounds": [values(500, 10)]} for i in ids})
    task_id = api.start(sample_table(ids), reference_table(), max_iterations=8)
    assert api.wait(task_id)["status"] == "completed"
    info = api.history(task_id)["global_info"]
    assert info["early_stopped"] is True
    assert info["early_stop_reason"] == "all_samples_converged"
    assert info["total_iterations"] == 2
    stats = api.get(
        "/api/iterative-prediction/convergence-stats", params={"task_id": task_id}
    ).json()
    assert stats["converged_samples"] == 2 and stats["convergence_rate"] == 1.0
    assert stats["average_convergence_iteration"] == 2
    assert stats["samples_by_convergence_speed"] == {"fast": 2, "medium": 0, "slow": 0}


def test_without_early_stop_every_sample_runs_every_round(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(2)
    fake_llm.script({i: {"rounds": [values(500, 10)]} for i in ids})
    task_id = api.start(sample_table(ids), reference_table(), max_iterations=4, early_stop=False)
    assert api.wait(task_id)["status"] == "completed"
    for sample_id in ids:
        assert sorted(c.round for c in fake_llm.calls(sample_id)) == [1, 2, 3, 4]
    history = api.history(task_id)
    for sample in history["samples"].values():
        assert sample["convergence_status"] == "converged"
        assert sample["converged_at_iteration"] == 2
        assert len(sample["targets"]["UTS"]["iterations"]) == 4
    assert history["global_info"]["early_stop_reason"] == "max_iterations_reached"


def test_transient_errors_are_retried_up_to_the_limit(api: ApiClient, fake_llm: FakeLlm):
    ok, flaky, doomed, garbled = unique_ids(4)
    good = values(600, 12)
    fake_llm.script(
        {
            ok: {"rounds": [good]},
            # 429 (Retry-After 0) then 500, then an answer: succeeds on the 3rd attempt
            flaky: {"rounds": [[{"status": 429, "retry_after": 0}, {"status": 500}, good], good]},
            # round 2 always times out: fails at round 2 after exactly 3 attempts
            doomed: {"rounds": [good, {"delay": 3.0, "values": good}]},
            # malformed JSON every time
            garbled: {"rounds": [{"text": "the UTS is high, I think"}]},
        }
    )
    task_id = api.start(sample_table([ok, flaky, doomed, garbled]), reference_table())
    task = api.wait(task_id)
    assert task["status"] == "completed" and task["failed_samples"] == 2

    # Attempts counted on the server side equal RETRY_MAX_ATTEMPTS (3).
    assert [c.outcome for c in fake_llm.calls(flaky) if c.round == 1] == ["429", "500", "ok"]
    assert len([c for c in fake_llm.calls(doomed) if c.round == 2]) == 3
    assert len(fake_llm.calls(garbled)) == 3

    samples = {s["sample_id"]: s for s in api.history(task_id)["samples"].values()}
    assert samples[flaky]["convergence_status"] == "converged"
    lost = samples[doomed]
    assert lost["convergence_status"] == "failed"
    assert lost["failed_iterations"] == [2]
    assert lost["errors"][0]["error_type"] == "api_timeout"
    assert lost["errors"][0]["attempts"] == 3
    assert lost["targets"]["UTS"]["iterations"] == [600]  # the earlier round is kept
    assert samples[garbled]["errors"][0]["error_type"] == "parse_error"


def test_value_errors_are_classified(api: ApiClient, fake_llm: FakeLlm):
    missing, wrong_type, absurd = unique_ids(3)
    fake_llm.script(
        {
            missing: {"rounds": [{"values": {"UTS": 600}}]},
            wrong_type: {"rounds": [values("very strong", 12)]},  # type: ignore[arg-type]
            absurd: {"rounds": [values(1e9, 12)]},
        }
    )
    task_id = api.start(sample_table([missing, wrong_type, absurd]), reference_table())
    assert api.wait(task_id)["failed_samples"] == 3
    samples = {s["sample_id"]: s for s in api.history(task_id)["samples"].values()}
    assert samples[missing]["errors"][0]["error_type"] == "missing_field"
    assert samples[wrong_type]["errors"][0]["error_type"] == "type_error"
    assert samples[absurd]["errors"][0]["error_type"] == "range_error"


def test_rejected_credentials_fail_the_task_at_once(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(3)
    fake_llm.script({i: {"rounds": [{"status": 401}]} for i in ids})
    task_id = api.start(sample_table(ids), reference_table(), max_workers=1)
    task = api.wait(task_id)
    assert task["status"] == "failed"
    assert "credentials" in task["error"]
    # Not retried, and the other samples are not sent after the first 401.
    called = [i for i in ids if fake_llm.calls(i)]
    assert len(called) == 1 and len(fake_llm.calls(called[0])) == 1
    history = api.history(task_id)
    first = history["samples"][f"sample_{ids.index(called[0])}"]
    assert first["errors"][0]["error_type"] == "auth_error"
    # The others end not_converged (never left pending), for a retry to continue them.
    assert [s["convergence_status"] for s in history["samples"].values()].count("failed") == 1


def test_retry_failed_reasks_only_failed_samples_and_continues_numbering(
    api: ApiClient, fake_llm: FakeLlm
):
    ok, broken = unique_ids(2)
    good = values(600, 12)
    fake_llm.script(
        {
            ok: {"rounds": [good]},
            broken: {"rounds": [values(500, 10), {"status": 500}]},
        }
    )
    task_id = api.start(sample_table([ok, broken]), reference_table(), max_iterations=5)
    assert api.wait(task_id)["failed_samples"] == 1

    fake_llm.script({broken: {"rounds": [values(500, 10), values(550, 11), values(551, 11.05)]}})
    calls_before = {ok: len(fake_llm.calls(ok)), broken: len(fake_llm.calls(broken))}
    response = api.post("/api/iterative-prediction/retry-failed", json={"task_id": task_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["original_task_id"] == task_id and body["retrying_samples"] == [1]
    new_id = body["new_task_id"]
    new_task = api.wait(new_id)
    assert new_task["status"] == "completed" and new_task["total_samples"] == 1

    assert len(fake_llm.calls(ok)) == calls_before[ok]  # no other sample was asked
    asked = [c.round for c in fake_llm.calls(broken)][calls_before[broken] :]
    assert asked == [2, 3]  # resumed at the round that failed; round 1 was copied
    sample = api.history(new_id)["samples"]["sample_1"]
    assert sample["sample_id"] == broken and sample["sample_index"] == 1
    assert sample["targets"]["UTS"]["iterations"] == [500, 550, 551]
    assert sample["converged_at_iteration"] == 3
    listed = api.get("/api/tasks", params={"limit": 5}).json()["items"]
    assert next(t for t in listed if t["task_id"] == new_id)["continue_from_task_id"] == task_id


def test_retry_failed_refuses_when_nothing_failed(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [values(600, 12)]}})
    task_id = api.start(sample_table(ids), reference_table())
    api.wait(task_id)
    for body in ({"task_id": task_id}, {"task_id": task_id, "sample_indices": [0]}):
        response = api.post("/api/iterative-prediction/retry-failed", json=body)
        assert response.status_code == 400
        assert response.json()["error"] == "NOTHING_TO_RETRY"
    missing = api.post("/api/iterative-prediction/retry-failed", json={"task_id": 999_999})
    assert missing.status_code == 404 and missing.json()["error"] in ("NOT_FOUND", "TASK_NOT_FOUND")


def test_cancel_stops_new_calls(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(6)
    slow = {"delay": 0.3, "values": values(600, 12)}
    fake_llm.script({i: {"rounds": [slow, {"delay": 0.3, "values": values(900, 30)}]} for i in ids})
    task_id = api.start(sample_table(ids), reference_table(), max_workers=1, max_iterations=10)
    wait_until(lambda: fake_llm.calls(ids[0]), timeout=20)
    response = api.post(f"/api/tasks/{task_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    calls_at_cancel = sum(len(fake_llm.calls(i)) for i in ids)
    wait_until(lambda: api.get(f"/api/tasks/{task_id}").json()["completed_at"], timeout=10)
    # At most the call in flight finishes; nothing new starts afterwards.
    wait_until(lambda: all(c.ended for i in ids for c in fake_llm.calls(i)), timeout=10)
    assert sum(len(fake_llm.calls(i)) for i in ids) == calls_at_cancel
    assert api.task(task_id)["status"] == "cancelled"
    assert api.post(f"/api/tasks/{task_id}/cancel").status_code == 200  # idempotent


def test_history_is_partial_while_running_and_filters_by_sample(api: ApiClient, fake_llm: FakeLlm):
    fast, slow = unique_ids(2)
    fake_llm.script(
        {
            fast: {"rounds": [values(600, 12)]},
            slow: {"rounds": [values(600, 12), {"delay": 1.0, "values": values(601, 12)}]},
        }
    )
    task_id = api.start(sample_table([fast, slow]), reference_table())
    partial = wait_until(
        lambda: (
            (r := api.get(f"/api/results/{task_id}/iterations")).status_code == 200
            and r.json()["samples"]["sample_0"]["converged_at_iteration"] == 2
            and r.json()
        ),
        timeout=20,
    )
    assert partial["global_info"]["completed_at"] is None
    api.wait(task_id)
    one = api.history(task_id, sample_index=1)
    assert list(one["samples"]) == ["sample_1"]
    for index in (7, -1, 10**20):
        out_of_range = api.get(f"/api/results/{task_id}/iterations", params={"sample_index": index})
        assert out_of_range.status_code == 404, index
        assert out_of_range.json()["error"] == "NOT_FOUND"
    summaries = api.history(task_id)["iteration_summaries"]
    assert [s["iteration"] for s in summaries] == [1, 2]
    assert [s["processed_samples"] for s in summaries] == [2, 2]
    assert [s["newly_converged"] for s in summaries] == [0, 2]


def test_no_round_barrier_a_slow_call_holds_up_only_its_sample(api: ApiClient, fake_llm: FakeLlm):
    slow, fast = unique_ids(2)
    fake_llm.script(
        {
            slow: {"rounds": [{"delay": 1.2, "values": values(600, 12)}, values(600, 12)]},
            fast: {"rounds": [values(500, 10), values(550, 11), values(551, 11.01)]},
        }
    )
    task_id = api.start(sample_table([slow, fast]), reference_table(), max_workers=2)
    api.wait(task_id)
    slow_first = fake_llm.calls(slow)[0]
    fast_calls = fake_llm.calls(fast)
    assert [c.round for c in fast_calls] == [1, 2, 3]
    # The fast sample finished all three rounds while the slow one was still in round 1.
    assert max(c.ended for c in fast_calls) < slow_first.ended


def test_at_most_max_workers_calls_are_in_flight(api: ApiClient, fake_llm: FakeLlm):
    ids = unique_ids(8)
    step = {"delay": 0.15, "values": values(600, 12)}
    fake_llm.script({i: {"rounds": [step]} for i in ids})
    task_id = api.start(sample_table(ids), reference_table(), max_workers=3)
    assert api.wait(task_id)["converged_samples"] == 8
    calls = [c for i in ids for c in fake_llm.calls(i)]
    events = sorted([(c.started, 1) for c in calls] + [(c.ended, -1) for c in calls])
    in_flight, peak = 0, 0
    for _, delta in events:
        in_flight += delta
        peak = max(peak, in_flight)
    assert peak == 3


def test_ten_rounds_with_retries_finish_within_the_graph_limits(api: ApiClient, fake_llm: FakeLlm):
    (sample,) = unique_ids(1)
    # Each round: a 500 first, then a value 5 % higher than the last: never converges.
    rounds = [[{"status": 500}, values(100 * 1.05**k, 10 * 1.05**k)] for k in range(10)]
    fake_llm.script({sample: {"rounds": rounds}})
    task_id = api.start(sample_table([sample]), reference_table(), max_iterations=10)
    task = api.wait(task_id)
    assert task["status"] == "completed" and task["current_iteration"] == 10
    doc = api.history(task_id)["samples"]["sample_0"]
    assert len(doc["targets"]["UTS"]["iterations"]) == 10
    assert doc["convergence_status"] == "not_converged"
    assert len(fake_llm.calls(sample)) == 20


def test_a_retried_sample_keeps_the_round_it_converged_at(api: ApiClient, fake_llm: FakeLlm):
    (sample,) = unique_ids(1)
    steady = values(600, 12)
    fake_llm.script({sample: {"rounds": [steady, steady, steady, {"status": 500}]}})
    task_id = api.start(sample_table([sample]), reference_table(), early_stop=False)
    assert api.wait(task_id)["failed_samples"] == 1
    fake_llm.script({sample: {"rounds": [steady]}})
    new_id = api.post("/api/iterative-prediction/retry-failed", json={"task_id": task_id}).json()[
        "new_task_id"
    ]
    api.wait(new_id)
    doc = api.history(new_id)["samples"]["sample_0"]
    assert len(doc["targets"]["UTS"]["iterations"]) == 5
    assert doc["converged_at_iteration"] == 2  # from the copied rounds, not round 5


def test_history_before_the_first_prediction_is_404(api: ApiClient, fake_llm: FakeLlm):
    (sample,) = unique_ids(1)
    fake_llm.script({sample: {"rounds": [{"delay": 1.0, "values": values(600, 12)}]}})
    task_id = api.start(sample_table([sample]), reference_table())
    early = api.get(f"/api/results/{task_id}/iterations")
    assert early.status_code == 404
    assert early.json()["error"] == "ITERATION_HISTORY_NOT_FOUND"
    api.wait(task_id)
    assert api.get(f"/api/results/{task_id}/iterations").status_code == 200
