"""Tasks run by worker processes from the job queue (real processes, real PostgreSQL, the fake
LLM over HTTP): an API without an embedded worker only queues; workers share one task; a killed
worker's batches are taken up by another; a cancel reaches running batches at once."""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.worker import WorkerProcess
from tests.helpers import (
    ApiClient,
    LiveServer,
    api_env,
    asyncio_tasks,
    fresh_database,
    overlapping_asks,
    query,
    reference_table,
    sample_table,
    stored_rounds,
    unique_ids,
    wait_until,
)


@pytest.fixture
def stack(pg, template_db, fake_llm, tmp_path: Path) -> Iterator[tuple[LiveServer, dict]]:
    """An API that only queues (EMBEDDED_WORKER=false), and the environment for its workers."""
    env = api_env(
        fresh_database(pg, template_db),
        tmp_path,
        fake_llm,
        EMBEDDED_WORKER="false",
        TASK_BATCH_SIZE="4",
        LLM_TIMEOUT_SECONDS="30",
    )
    server = LiveServer(env, tmp_path)
    server.start()
    yield server, env
    server.stop()


def test_the_api_only_queues_and_a_worker_process_runs_the_task(stack, fake_llm, tmp_path):
    server, env = stack
    ids = unique_ids(6, prefix="Q")
    with ApiClient(server.base_url) as api:
        first = api.start(sample_table(ids), reference_table(), llm_provider="baseline")
        second = api.start(sample_table(ids), reference_table(), llm_provider="baseline")
        urgent = api.start(
            sample_table(ids), reference_table(), llm_provider="baseline", priority=5
        )
        views = {t: api.task(t) for t in (first, second, urgent)}
        assert {t: v["status"] for t, v in views.items()} == dict.fromkeys(views, "pending")
        # Higher priority first, then first come first served.
        assert [views[t]["queue_position"] for t in (urgent, first, second)] == [1, 2, 3]

        worker = WorkerProcess(env, tmp_path).start()
        try:
            for task_id in (first, second, urgent):
                task = api.wait(task_id, timeout=60)
                assert task["status"] == "completed", task
                assert task["queue_position"] is None
                assert task["usage"]["llm_calls"] == 0  # the baseline calls nobody
        finally:
            assert worker.stop() == 0  # SIGTERM: a clean exit
    assert '"embedded_worker": false' in server.log()


def test_two_workers_share_a_task_and_a_killed_ones_batches_are_taken_up(stack, fake_llm, tmp_path):
    server, env = stack
    ids = unique_ids(24, prefix="W")
    chain = [{"delay": 0.15, "values": {"UTS": 600 * 1.05**k, "El": 12.0}} for k in range(3)]
    fake_llm.script({i: {"rounds": [*chain, chain[-1]]} for i in ids})  # converges at round 4
    workers = [WorkerProcess(env, tmp_path, name=f"worker-{n}").start() for n in range(2)]
    try:
        with ApiClient(server.base_url) as api:
            task_id = api.start(
                sample_table(ids), reference_table(), max_workers=4, max_iterations=6
            )
            wait_until(lambda: len(stored_rounds(api, task_id)) >= 20, timeout=60)
            workers[0].kill()
            killed_at = time.monotonic()
            asked_at_kill = {(c.sample_id, c.round) for i in ids for c in fake_llm.calls(i)}
            # In flight at the kill: asked, answer not stored (the killed worker writes no more).
            in_flight = asked_at_kill - stored_rounds(api, task_id)
            task = api.wait(task_id, timeout=90)
            took = time.monotonic() - killed_at
            history = api.history(task_id)
    finally:
        for worker in workers:
            worker.stop()
    assert task["status"] == "completed" and task["converged_samples"] == len(ids), task
    for sample in history["samples"].values():
        assert len(sample["targets"]["UTS"]["iterations"]) == 4  # each round stored once
    asked = Counter((c.sample_id, c.round) for i in ids for c in fake_llm.calls(i))
    assert {key for key, n in asked.items() if n > 1} <= in_flight
    assert overlapping_asks([c for i in ids for c in fake_llm.calls(i)]) == []
    assert len(asked) == len(ids) * 4
    # Both workers ran batches of the one task.
    assert all("batch started" in w.log() for w in workers), [w.log()[-2000:] for w in workers]
    assert took < 60


def running_jobs(env: dict[str, str], task_id: int) -> int:
    sql = (
        "SELECT id FROM procrastinate_jobs WHERE (args->>'task_id')::int = %s AND status = 'doing'"
    )
    return len(query(env, sql, task_id))


def test_cancel_reaches_running_batches_at_once(stack, fake_llm, tmp_path):
    server, env = stack
    ids = unique_ids(40, prefix="C")
    slow = {"delay": 8.0, "values": {"UTS": 600, "El": 12}}
    fake_llm.script({i: {"rounds": [slow]} for i in ids})
    worker = WorkerProcess(env, tmp_path).start()
    try:
        with ApiClient(server.base_url) as api:
            task_id = api.start(sample_table(ids), reference_table(), max_workers=3)
            wait_until(lambda: len([c for i in ids for c in fake_llm.calls(i)]) >= 3, 30)
            response = api.post(f"/api/tasks/{task_id}/cancel")
            assert response.status_code == 200, response.text
            cancelled_at = time.monotonic()
            # Running batches are aborted at once (not when their 8 s calls return).
            wait_until(lambda: running_jobs(env, task_id) == 0, timeout=5)
            aborted_after = time.monotonic() - cancelled_at
            task = api.task(task_id)
            assert task["status"] == "cancelled"
            history = api.get(f"/api/results/{task_id}/iterations")
            assert history.status_code == 404  # not a round stored
            statuses = query(env, "SELECT DISTINCT status FROM samples WHERE task_id = %s", task_id)
            assert statuses == [("not_converged",)]  # nothing left running or pending
            # Once the first calls would have answered, still no new call has been made.
            wait_until(lambda: all(c.ended for i in ids for c in fake_llm.calls(i)), timeout=15)
            asked = len([c for i in ids for c in fake_llm.calls(i)])
            # Retry continues the unfinished samples.
            fake_llm.script({i: {"rounds": [{"values": {"UTS": 600, "El": 12}}] * 2} for i in ids})
            retry = api.post("/api/iterative-prediction/retry-failed", json={"task_id": task_id})
            assert retry.status_code == 200, retry.text
            assert len(retry.json()["retrying_samples"]) == len(ids)
            again = api.wait(retry.json()["new_task_id"], timeout=60)
            assert again["status"] == "completed" and again["converged_samples"] == len(ids)
    finally:
        worker.stop()
    assert asked == 3  # the calls in flight at the cancel, none after
    assert aborted_after < 5


def test_sigusr2_logs_where_a_workers_asyncio_tasks_wait(stack, tmp_path):
    """For a worker that looks stuck without an error: `kill -USR2` logs every asyncio task's
    stack (and the worker goes on)."""
    _, env = stack
    worker = WorkerProcess(env, tmp_path).start()
    try:
        stacks = asyncio_tasks(worker)
        assert "in _supervise" in stacks and "in _sweep" in stacks, stacks
        assert worker.process is not None and worker.process.poll() is None
    finally:
        assert worker.stop() == 0
