"""The job queue in-process, against real PostgreSQL: a task's jobs are written with it, a cancel
closes it in two statements, a silent worker's jobs go back to the queue, and a worker whose
job was taken over stops calling."""

import asyncio
import contextlib
import threading
import time
from typing import Any

import pandas as pd
import psycopg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from backend.core.config import Settings
from backend.core.vocabulary import SampleStatus, TaskStatus
from backend.db.models import Sample, Task
from backend.db.session import init_engine, read_pool, unit_of_work
from backend.schemas import StartRequest
from backend.services import task_store, tasks
from backend.worker import batch
from backend.worker.batch import BatchRun, WorkerRuntime
from backend.worker.gates import JobLease
from backend.worker.supervisor import requeue_stalled
from backend.workflow.predictors import Cancelled
from backend.workflow.task_data import prepare, retrieve
from tests.helpers import on_database, reference_table, sample_table, unique_ids, wait_until


def jobs(session, task_id: int) -> list[tuple[str, list[int]]]:
    rows = session.execute(
        text(
            "SELECT status::text, args->'samples' FROM procrastinate_jobs "
            "WHERE (args->>'task_id')::int = :t ORDER BY id"
        ),
        {"t": task_id},
    ).all()
    return [(status, samples) for status, samples in rows]


async def value(sql: str, *params: object) -> Any:
    async with read_pool().connection() as connection:
        row = await (await connection.execute(sql, params)).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def created(db_url, tmp_path):
    """A 10-sample baseline task created as `start` creates it (batches of 4), no worker."""
    (tmp_path / "datasets").mkdir()
    ids = unique_ids(10)
    (tmp_path / "datasets" / "test.csv").write_text(sample_table(ids))
    (tmp_path / "datasets" / "ref.csv").write_text(reference_table())
    settings = Settings(DATABASE_URL=db_url, DATA_DIR=tmp_path, TASK_BATCH_SIZE=4)
    init_engine(settings)
    request = StartRequest(
        task_name="queued",
        test_file_path="datasets/test.csv",
        reference_file_path="datasets/ref.csv",
        target_properties=["UTS", "El"],
        priority=3,
    )
    with unit_of_work() as session:
        task_id = tasks.create_task(session, settings, tasks.check_config(settings, request)).id
    return settings, task_id


def test_a_task_is_written_with_its_jobs_and_cancelled_in_place(created):
    _, task_id = created
    with unit_of_work() as session:
        assert jobs(session, task_id) == [
            ("todo", [0, 1, 2, 3]),
            ("todo", [4, 5, 6, 7]),
            ("todo", [8, 9]),
        ]
        priorities = session.execute(
            text("SELECT DISTINCT priority FROM procrastinate_jobs")
        ).scalars()
        assert list(priorities) == [3]
        # Start checks and retrieves nothing: the worker that first runs a sample does.
        neighbours = session.scalars(select(Sample.neighbours).where(Sample.task_id == task_id))
        assert list(neighbours) == [None] * 10
        assert session.scalar(select(Task.calibration).where(Task.id == task_id)) is None
        tasks.cancel_task(session, task_id)
    with unit_of_work() as session:
        assert {status for status, _ in jobs(session, task_id)} == {"cancelled"}
        assert session.scalar(select(Task.status).where(Task.id == task_id)) == TaskStatus.CANCELLED
        statuses = session.execute(
            select(Sample.status, func.count())
            .where(Sample.task_id == task_id)
            .group_by(Sample.status)
        ).all()
        assert statuses == [(SampleStatus.NOT_CONVERGED, 10)]


def test_a_silent_workers_jobs_are_requeued_and_its_lease_is_lost(created, db_url):
    _, task_id = created

    async def body() -> tuple[int, int, list[tuple[str, list[int]]], bool]:
        # A worker takes the first job, then falls silent (its heartbeat ages).
        worker = await value(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now()) RETURNING id"
        )
        job = await value("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", worker)
        lease = JobLease(job, worker, stalled_seconds=3)
        await lease.ensure()  # fresh: calls may go
        fresh = await requeue_stalled(30)  # heartbeat is recent: nothing to do
        async with read_pool().connection() as connection:
            await connection.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute'"
            )
        requeued = await requeue_stalled(30)
        keeper = asyncio.create_task(lease.keep())
        try:
            await asyncio.wait_for(lease.lost.wait(), 5)
            with pytest.raises(Cancelled):
                await lease.ensure()
        finally:
            keeper.cancel()
        with unit_of_work() as session:
            return fresh, requeued, jobs(session, task_id), lease.lost.is_set()

    fresh, requeued, rows, lost = on_database(db_url, body)
    assert (fresh, requeued, lost) == (0, 1, True)
    # The silent worker's job is closed; the same samples are queued again as a new job.
    assert rows == [
        ("failed", [0, 1, 2, 3]),
        ("todo", [4, 5, 6, 7]),
        ("todo", [8, 9]),
        ("todo", [0, 1, 2, 3]),
    ]


def test_a_slot_freed_by_an_abort_does_not_start_a_call_in_another_aborted_batch(created, db_url):
    """A cancel aborts a task's running jobs one notification at a time. The call slot freed by
    the first abort must not let a batch whose abort is still on its way start a call."""
    _, task_id = created

    async def body() -> tuple[bool, bool, bool]:
        worker = await value(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now()) RETURNING id"
        )
        first = await value("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", worker)
        second = await value("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", worker)
        interrupted = asyncio.Event()
        leases = [JobLease(job, worker, stalled_seconds=30) for job in (first, second)]
        for lease in leases:
            lease.interrupted = interrupted  # as two batches of one task in one worker
        async with leases[1].call():
            pass  # nothing cut short yet: no question asked, the call may go
        entered = asyncio.Event()

        async def in_flight() -> None:
            async with leases[0].call():
                entered.set()
                await asyncio.Event().wait()  # an 8 s call, say

        call = asyncio.create_task(in_flight())
        await entered.wait()
        with unit_of_work() as session:
            tasks.cancel_task(session, task_id)  # both jobs: abort requested
        call.cancel()  # the first abort reaches its batch
        with contextlib.suppress(asyncio.CancelledError):
            await call
        refused = False
        try:
            async with leases[1].call():
                pass
        except Cancelled:
            refused = True
        return interrupted.is_set(), refused, leases[1].lost.is_set()

    assert on_database(db_url, body) == (True, True, True)


def test_a_lease_not_confirmed_for_half_the_stall_time_holds_calls(db_url):
    async def body() -> float:
        lease = JobLease(job_id=1, worker_id=1, stalled_seconds=3)
        lease._confirmed = time.monotonic() - 10  # the database has not answered for 10 s
        waited = asyncio.create_task(lease.ensure())
        await asyncio.sleep(0.2)
        held = not waited.done()
        lease._confirmed = time.monotonic()  # it answers again: calls go on
        await asyncio.wait_for(waited, 2)
        return held

    assert on_database(db_url, body) is True


def test_a_lease_keeper_ends_when_its_batch_is_done_even_if_a_cancel_is_lost(db_url):
    """The batch cancels its keeper and awaits it. A cancel that never arrives (swallowed, as
    Python 3.11's wait_for could when it came as the confirmation timed out) must not keep the
    batch waiting: done() ends the keeper at its next turn. Found by the database-restart test:
    a batch waited ~2 min on its keeper, until its worker was stopped."""

    async def body() -> bool:
        lease = JobLease(job_id=1, worker_id=1, stalled_seconds=3)
        asked = asyncio.Event()

        async def owned_but_deaf_to_cancel() -> bool:
            asked.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.2)
            return True

        lease._owned = owned_but_deaf_to_cancel  # type: ignore[method-assign]
        keeper = asyncio.create_task(lease.keep())
        await asyncio.wait_for(asked.wait(), 5)
        lease.done()
        keeper.cancel()  # swallowed by the confirmation in flight
        await asyncio.wait_for(asyncio.gather(keeper, return_exceptions=True), 5)
        return keeper.done()

    assert on_database(db_url, body) is True


def test_the_health_check_is_light_and_says_whether_a_worker_reached_the_database(tmp_path):
    """The container's health check imports neither litellm nor the worker (its timeout)."""
    import os
    import subprocess
    import sys

    from devstack.process import ROOT

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    probe = (
        "import sys, backend.worker.__main__; "
        "print(sorted({'litellm', 'procrastinate'} & set(sys.modules)))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert imported.stdout.strip() == "[]"
    check = [sys.executable, "-m", "backend.worker", "--check"]
    assert subprocess.run(check, cwd=ROOT, env=env).returncode == 1  # no worker ran here
    (tmp_path / "backend-worker.alive").touch()
    assert subprocess.run(check, cwd=ROOT, env=env).returncode == 0


def test_batches_run_in_process_and_the_last_one_completes_the_task(created, db_url, monkeypatch):
    """The worker's job body without a worker: each batch retrieves its samples' neighbours
    (once: stored), runs them through their graphs and stores their rounds; only the batch that
    leaves nothing unfinished completes."""
    settings, task_id = created
    retrievals: list[int] = []

    def counted(index, features, samples, top_k):
        retrievals.append(len(samples))
        return retrieve(index, features, samples, top_k)

    monkeypatch.setattr(batch, "retrieve", counted)

    async def body() -> list[tuple[str, str | None]]:
        runtime = WorkerRuntime(settings)
        seen = []
        for job_id, samples in enumerate(([0, 1, 2, 3], [4, 5, 6, 7], [8, 9]), start=1):
            await BatchRun(runtime, task_id, samples, job_id=job_id, worker_id=None).run()
            with unit_of_work() as session:
                task = session.get(Task, task_id)
                assert task is not None
                seen.append((task.status, task.early_stop_reason))
        # A batch run again (a crash, a requeue) finds its samples' neighbours stored.
        await BatchRun(runtime, task_id, [0, 1, 2, 3], job_id=9, worker_id=None).run()
        return seen

    seen = on_database(db_url, body)
    assert seen == [
        (TaskStatus.RUNNING, None),
        (TaskStatus.RUNNING, None),
        (TaskStatus.COMPLETED, "all_samples_converged"),
    ]
    assert retrievals == [4, 4, 2]
    with unit_of_work() as session:
        rounds = session.execute(
            text(
                "SELECT count(*), count(DISTINCT sample_index) FROM predictions WHERE task_id = :t"
            ),
            {"t": task_id},
        ).one()
        # The baseline repeats its answer: every sample converges at round 2, stored once each.
        assert tuple(rounds) == (20, 10)
        stored = session.scalars(
            select(Sample.neighbours).where(Sample.task_id == task_id).order_by(Sample.sample_index)
        ).all()
        calibration = session.scalar(select(Task.calibration).where(Task.id == task_id))
    # Per batch, from the stored inputs: exactly what retrieval over the whole test file gives.
    whole = prepare(
        pd.read_csv(settings.DATA_DIR / "datasets" / "test.csv"),
        pd.read_csv(settings.DATA_DIR / "datasets" / "ref.csv"),
        ["UTS", "El"],
    )
    assert stored == [
        [[int(i), pytest.approx(float(d))] for i, d in zip(n, dist, strict=True)]
        for n, dist in zip(whole.neighbours, whole.distances, strict=True)
    ]
    # The baseline's intervals: leave-one-out over the reference, stored by the first batch.
    assert calibration is not None and calibration["method"] == "leave-one-out"
    assert set(calibration["half_widths"]) == {"UTS", "El"}


def test_a_batch_stopped_by_a_database_error_leaves_none_of_its_samples_running(
    created, db_url, monkeypatch
):
    """One sample's round write fails while the batch's other samples are mid-write: the batch
    ends with that error (the queue retries it) and nothing of it runs on. A sample loop left
    behind held its task's call slot for good and starved the task's other batches in the
    process (a PostgreSQL restart then left a task running forever)."""
    settings, task_id = created

    async def save_round(self, sample_index: int, *args: Any, **kwargs: Any) -> None:
        if sample_index == 0:
            await asyncio.sleep(0.05)  # the others are writing by now
            away = psycopg.OperationalError("the database system is shutting down")
            raise OperationalError("INSERT INTO predictions", {}, away)
        await asyncio.Event().wait()  # a write that has not returned yet

    monkeypatch.setattr(task_store.TaskStore, "save_round", save_round)

    async def body() -> tuple[list[str], int]:
        runtime = WorkerRuntime(settings)
        before = asyncio.all_tasks()  # the read pool's own
        run = BatchRun(runtime, task_id, [0, 1, 2, 3], job_id=1, worker_id=None).run()
        with pytest.raises(OperationalError):
            await asyncio.wait_for(run, 30)
        others = [repr(t) for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
        return others, len(runtime.task_slots)

    others, shares = on_database(db_url, body)
    assert others == [] and shares == 0


def test_a_task_stored_without_feature_kinds_retrieves_as_its_reference_has_them(created, db_url):
    """Tasks started by an earlier version have no `feature_kinds` in their config."""
    settings, task_id = created
    with unit_of_work() as session:
        session.execute(
            text("UPDATE tasks SET config = (config::jsonb - 'feature_kinds')::json WHERE id = :t"),
            {"t": task_id},
        )

    async def body() -> None:
        runtime = WorkerRuntime(settings)
        await BatchRun(runtime, task_id, [0, 1, 2, 3], job_id=1, worker_id=None).run()

    on_database(db_url, body)
    with unit_of_work() as session:
        stored = session.scalars(
            select(Sample.neighbours)
            .where(Sample.task_id == task_id, Sample.sample_index < 4)
            .order_by(Sample.sample_index)
        ).all()
    whole = prepare(
        pd.read_csv(settings.DATA_DIR / "datasets" / "test.csv"),
        pd.read_csv(settings.DATA_DIR / "datasets" / "ref.csv"),
        ["UTS", "El"],
    )
    assert [[int(i) for i, _ in row] for row in stored] == whole.neighbours[:4].tolist()


def test_a_cancel_while_a_batch_stores_its_retrieval_waits_instead_of_deadlocking(created):
    """`stop` locks the task row, then the samples; a batch storing what it retrieved (the
    samples' neighbours, a baseline's intervals) takes them in the same order."""
    _, task_id = created
    failures: list[BaseException] = []

    def store() -> None:
        try:
            with unit_of_work() as session:
                task_store.store_retrieved(
                    session, task_id, {0: [[1, 0.5]]}, {"method": "leave-one-out"}
                )
        except BaseException as exc:  # reported below
            failures.append(exc)

    with unit_of_work() as cancel:
        cancel.execute(update(Task).where(Task.id == task_id).values(status=TaskStatus.CANCELLED))
        writer = threading.Thread(target=store)
        writer.start()
        # Each probe in its own transaction: pg_stat_activity is a snapshot taken at its first
        # read in a transaction, so one long probe never sees the writer start waiting.
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%FOR NO KEY UPDATE%'"
        )

        def writer_waits() -> bool:
            with unit_of_work() as probe:
                return probe.scalar(waiting) == 1

        assert wait_until(writer_waits, 10)
        task_store.close_unfinished_samples(cancel, task_id)
    writer.join(10)
    assert not writer.is_alive() and failures == []
    with unit_of_work() as session:
        sample = session.get_one(Sample, (task_id, 0))
        assert (sample.status, sample.neighbours) == (SampleStatus.NOT_CONVERGED, [[1, 0.5]])
