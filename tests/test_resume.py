"""A process killed mid-task (SIGKILL) and started again finishes the task: every round stored
once, and only the calls in flight at the kill are asked again."""

from collections import Counter

from tests.helpers import (
    ApiClient,
    LiveServer,
    api_env,
    fresh_database,
    reference_table,
    sample_table,
    stored_rounds,
    unique_ids,
    wait_until,
)


def test_killed_server_resumes_without_re_asking_stored_rounds(pg, template_db, fake_llm, tmp_path):
    ids = unique_ids(6, prefix="K")
    chain = [{"delay": 0.25, "values": {"UTS": 600 * 1.05**k, "El": 12.0}} for k in range(3)]
    fake_llm.script({i: {"rounds": [*chain, chain[-1]]} for i in ids})  # converges at round 4
    server = LiveServer(api_env(fresh_database(pg, template_db), tmp_path, fake_llm), tmp_path)
    server.start()
    try:
        with ApiClient(server.base_url) as api:
            task_id = api.start(
                sample_table(ids), reference_table(), max_workers=3, max_iterations=6
            )
            wait_until(lambda: len(stored_rounds(api, task_id)) >= 8, timeout=30)
        server.kill()
        asked_at_kill = {(c.sample_id, c.round) for i in ids for c in fake_llm.calls(i)}

        server.start()
        with ApiClient(server.base_url) as api:
            # In flight at the kill: asked, answer not stored (the killed process writes no more).
            in_flight = asked_at_kill - stored_rounds(api, task_id)
            task = api.wait(task_id, timeout=60)
            assert task["status"] == "completed"
            assert task["converged_samples"] == 6
            history = api.history(task_id)
    finally:
        server.stop()

    for sample in history["samples"].values():
        assert sample["converged_at_iteration"] == 4
        assert len(sample["targets"]["UTS"]["iterations"]) == 4  # each round stored once
    asked = Counter((c.sample_id, c.round) for i in ids for c in fake_llm.calls(i))
    repeated = {key for key, n in asked.items() if n > 1}
    assert repeated <= in_flight, "a stored round was asked again"
    assert len(asked) == 6 * 4
