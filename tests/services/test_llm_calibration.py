"""An LLM task's calibration samples, in process against real PostgreSQL: created with the task
(marked, leave-one-out, after the test samples), hidden from every reader of its results, and
turned into the task's intervals when it completes."""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, text, update

from backend.core.config import Settings
from backend.core.errors import HistoryNotFound, InvalidConfig, NotFound
from backend.core.vocabulary import SampleStatus
from backend.db.models import Prediction, Sample, Task
from backend.db.session import dispose_engine, init_engine, unit_of_work
from backend.schemas import RetryRequest, StartRequest
from backend.services import export, history, statistics, task_store, tasks
from backend.services.task_views import view_task
from backend.worker import batch
from backend.worker.batch import BatchRun, WorkerRuntime
from backend.workflow.prompts import render_prompt
from backend.workflow.task_data import calibration_rows
from tests.helpers import reference_table, sample_table, unique_ids

REFERENCE_ROWS = 12  # reference_table(): R0 … R11, UTS 500 + 40 i, El 10 + i


@dataclass
class Env:
    settings: Settings
    ids: list[str]

    def request(self, **fields: Any) -> StartRequest:
        body: dict[str, Any] = {
            "task_name": "calibrated",
            "test_file_path": "datasets/test.csv",
            "reference_file_path": "datasets/ref.csv",
            "target_properties": ["UTS", "El"],
            "llm_provider": "openai",
            "llm_model": "fake-model",
            "max_iterations": 3,
        }
        return StartRequest.model_validate(body | fields)

    def create(self, **fields: Any) -> int:
        with unit_of_work() as session:
            checked = tasks.check_config(self.settings, self.request(**fields))
            return tasks.create_task(session, self.settings, checked).id


@pytest.fixture
def env(db_url, tmp_path) -> Iterator[Env]:
    """Three test samples with measured values, the 12-row reference; no worker runs."""
    (tmp_path / "datasets").mkdir()
    ids = unique_ids(3)
    (tmp_path / "datasets" / "test.csv").write_text(sample_table(ids, truth=True))
    (tmp_path / "datasets" / "ref.csv").write_text(reference_table(REFERENCE_ROWS))
    settings = Settings(
        DATABASE_URL=db_url,
        DATA_DIR=tmp_path,
        LLM_API_BASE="http://127.0.0.1:9/v1",
        TASK_BATCH_SIZE=4,
        MAX_CALIBRATION_SAMPLES=50,
    )
    init_engine(settings)
    try:
        yield Env(settings, ids)
    finally:
        dispose_engine()


def samples(task_id: int, calibration: bool) -> list[Sample]:
    with unit_of_work() as session:
        rows = session.scalars(
            select(Sample)
            .where(Sample.task_id == task_id, Sample.calibration.is_(calibration))
            .order_by(Sample.sample_index)
        ).all()
        session.expunge_all()
        return list(rows)


def store_round(task_id: int, index: int, values: dict[str, float], status: str) -> None:
    """A sample's round as the worker stores it, and its status after it."""
    with unit_of_work() as session:
        done = session.scalars(
            select(Sample.iterations_done).where(
                Sample.task_id == task_id, Sample.sample_index == index
            )
        ).one()
        session.add(
            Prediction(task_id=task_id, sample_index=index, iteration=done + 1, values=values)
        )
        session.execute(
            update(Sample)
            .where(Sample.task_id == task_id, Sample.sample_index == index)
            .values(
                iterations_done=done + 1,
                status=status,
                converged_at_iteration=done + 1 if status == SampleStatus.CONVERGED else None,
            )
        )


def results(task_id: int) -> dict[str, Any]:
    """What every reader of the task's results answers."""
    with unit_of_work() as session:
        task = session.get_one(Task, task_id)
        try:
            document = history.iteration_history(session, task, history.Selection(), 2000)
        except HistoryNotFound:
            document = {}
        return {
            "view": view_task(session, task_id),
            "history": document,
            "stats": statistics.convergence_stats(session, task),
            "accuracy": statistics.accuracy(session, task),
            "final": export.rows(session, task, "final")[1],
            "rounds": export.rows(session, task, "rounds")[1],
            "calibration": task.calibration,
        }


def test_calibration_samples_are_created_marked_leave_one_out_and_queued(env):
    task_id = env.create(calibration_samples=5)
    tests, calibration = samples(task_id, False), samples(task_id, True)
    assert [s.sample_id for s in tests] == env.ids
    rows = calibration_rows(REFERENCE_ROWS, 5)
    assert rows == [1, 3, 6, 8, 10]  # evenly spaced over the reference rows
    assert [s.sample_index for s in calibration] == [3, 4, 5, 6, 7]  # after the test samples
    assert [s.sample_id for s in calibration] == [f"calibration-R{r}" for r in rows]
    reference = pd.read_csv(io.StringIO(reference_table(REFERENCE_ROWS)))
    for sample, row in zip(calibration, rows, strict=True):
        ref = reference.iloc[row]
        assert sample.composition == {
            "Fe": ref["Fe"],
            "Ni": ref["Ni"],
            "Processing": ref["Processing"],
        }
        assert sample.truth == {"UTS": ref["UTS"], "El": ref["El"]}
        assert sample.status == SampleStatus.PENDING
        assert sample.neighbours is None  # start retrieves nothing

    with unit_of_work() as session:
        task = session.get_one(Task, task_id)
        assert (task.total_samples, task.calibration_samples, task.calibration) == (3, 5, None)
        # Queued like test samples, after them.
        queued = session.execute(
            text(
                "SELECT args->'samples' FROM procrastinate_jobs "
                "WHERE (args->>'task_id')::int = :t ORDER BY id"
            ),
            {"t": task_id},
        ).scalars()
        assert list(queued) == [[0, 1, 2, 3], [4, 5, 6, 7]]

    # The batch that first runs them retrieves and stores: leave-one-out, nearest first.
    loaded = batch._load(task_id, [3, 4, 5, 6, 7])
    assert loaded is not None
    run = BatchRun(WorkerRuntime(env.settings), task_id, [3, 4, 5, 6, 7], 0, None)
    data = run._data(loaded.task, loaded)
    stored = samples(task_id, True)
    for sample, row in zip(stored, rows, strict=True):
        neighbours = [int(i) for i, _ in sample.neighbours or []]
        assert len(neighbours) == 5 and row not in neighbours
        distances = [d for _, d in sample.neighbours or []]
        assert distances == sorted(distances)
    # The same prompt path as a test sample: stored inputs and neighbours, its own row absent.
    position = [s.index for s in data.samples].index(3)
    prompt = render_prompt(data, position, [], max_rounds=3, threshold=0.01)
    assert "Sample ID: calibration-R1" in prompt
    assert "| R1 |" not in prompt and "| R0 |" in prompt and "| R2 |" in prompt


def test_calibration_samples_are_hidden_from_the_results(env):
    task_id = env.create(calibration_samples=4)
    before = results(task_id)["view"]
    assert (before["total_samples"], before["progress"], before["calibration_samples"]) == (3, 0, 4)

    # Every calibration sample is done (two converged, two failed); one test sample has a round.
    for index in (3, 4):
        store_round(task_id, index, {"UTS": 600.0, "El": 12.0}, SampleStatus.RUNNING)
        store_round(task_id, index, {"UTS": 600.0, "El": 12.0}, SampleStatus.CONVERGED)
    for index in (5, 6):
        store_round(task_id, index, {"UTS": 600.0, "El": 12.0}, SampleStatus.FAILED)
    store_round(task_id, 0, {"UTS": 700.0, "El": 15.0}, SampleStatus.RUNNING)

    seen = results(task_id)
    view = seen["view"]
    assert (view["total_samples"], view["converged_samples"], view["failed_samples"]) == (3, 0, 0)
    assert view["current_iteration"] == 0  # two test samples have no round yet
    # Progress is all the work: 4 of 7 samples done, one test sample 1 of 3 rounds in.
    assert view["progress"] == pytest.approx((4 + 1 / 3) / 7, abs=1e-4)
    info = seen["history"]["global_info"]
    assert (info["total_samples"], info["converged_samples"], info["failed_samples"]) == (3, 0, 0)
    assert info["total_iterations"] == 1  # calibration samples reached round 2
    assert sorted(seen["history"]["samples"]) == ["sample_0", "sample_1", "sample_2"]
    summaries = seen["history"]["iteration_summaries"]
    assert [(s["iteration"], s["processed_samples"], s["failed_samples"]) for s in summaries] == [
        (1, 1, 0)
    ]
    assert seen["stats"]["converged_samples"] == 0 and seen["stats"]["total_samples"] == 3
    assert [r["sample_index"] for r in seen["final"]] == [0, 1, 2]
    assert [r["sample_index"] for r in seen["rounds"]] == [0]
    scatter = seen["accuracy"]["scatter"]["UTS"]
    assert [p["sample_index"] for p in scatter] == [0]  # their measured values are not scored
    with unit_of_work() as session:
        task = session.get_one(Task, task_id)
        with pytest.raises(NotFound, match="no sample_index 3"):
            history.iteration_history(session, task, history.Selection(sample_index=3), 2000)
        page = history.iteration_history(session, task, history.Selection(limit=10), 2000)
        assert page["page"]["total"] == 3 and len(page["samples"]) == 3
        since = datetime(2000, 1, 1, tzinfo=UTC)
        changed = history.iteration_history(session, task, history.Selection(since=since), 2000)
        assert list(changed["samples"]) == ["sample_0"]  # not the calibration samples' rounds


def test_completion_writes_the_intervals_from_the_calibration_predictions(env):
    task_id = env.create(calibration_samples=10)
    calibration = samples(task_id, True)
    assert len(calibration) == 10
    # Nine usable calibration samples, UTS off by 1 … 9 (signs alternate), El by 0.1 … 0.9;
    # the tenth failed (its huge residual must not count).
    for k, sample in enumerate(calibration[:9], start=1):
        assert sample.truth is not None
        sign = 1 if k % 2 else -1
        values = {"UTS": sample.truth["UTS"] + sign * k, "El": sample.truth["El"] - 0.1 * k}
        store_round(task_id, sample.sample_index, {"UTS": 0.0, "El": 0.0}, SampleStatus.RUNNING)
        store_round(task_id, sample.sample_index, values, SampleStatus.NOT_CONVERGED)
    store_round(task_id, calibration[9].sample_index, {"UTS": 1e6, "El": 1e6}, SampleStatus.FAILED)
    # The test samples: measured UTS 777, 778, 779; El 17.
    store_round(task_id, 0, {"UTS": 780.0, "El": 17.5}, SampleStatus.CONVERGED)  # inside
    store_round(task_id, 1, {"UTS": 800.0, "El": 17.0}, SampleStatus.CONVERGED)  # UTS outside
    store_round(task_id, 2, {"UTS": 779.0, "El": 16.0}, SampleStatus.FAILED)

    with unit_of_work() as session:
        assert task_store.finish_if_done(session, task_id) is True
        assert task_store.finish_if_done(session, task_id) is False  # only once

    seen = results(task_id)
    assert seen["calibration"]["source"] == "llm_calibration"
    assert seen["calibration"]["level"] == 0.9 and seen["calibration"]["n"] == 9
    widths = seen["calibration"]["half_widths"]
    assert widths["UTS"] == pytest.approx(9.0)  # the ⌈10 · 0.9⌉ = 9th smallest of 9
    assert widths["El"] == pytest.approx(0.9)
    assert "note" not in seen["calibration"]
    assert seen["view"]["status"] == "completed" and seen["view"]["progress"] == 1.0
    assert seen["view"]["early_stop_reason"] == "all_samples_converged"  # of the test samples
    assert seen["view"]["calibration"] == seen["calibration"]

    sample_0 = seen["history"]["samples"]["sample_0"]
    assert sample_0["intervals"]["UTS"] == {
        "lower": pytest.approx(771.0),
        "upper": pytest.approx(789.0),
        "level": 0.9,
    }
    coverage = seen["accuracy"]["interval_coverage"]
    assert coverage["UTS"] == pytest.approx(2 / 3)  # 777 ∈ 780±9, 778 ∉ 800±9, 779 ∈ 779±9
    assert coverage["El"] == pytest.approx(2 / 3)  # 17 ∈ 17.5±0.9, 17 ∈ 17±0.9, 17 ∉ 16±0.9
    final = {r["sample_index"]: r for r in seen["final"]}
    assert final[1]["UTS_lower"] == pytest.approx(791.0)

    # A retry copies the failed test sample only, and keeps the task's intervals.
    with unit_of_work() as session:
        retry, indices = tasks.retry_failed(session, env.settings, RetryRequest(task_id=task_id))
        retry_id = retry.id
    assert indices == [2]
    assert [s.sample_index for s in samples(retry_id, False)] == [2]
    assert samples(retry_id, True) == []
    with unit_of_work() as session:
        copied = session.get_one(Task, retry_id)
        assert (copied.calibration_samples, copied.calibration) == (0, seen["calibration"])


def test_too_few_usable_calibration_samples_give_no_intervals(env):
    task_id = env.create(calibration_samples=9)
    for index, sample in enumerate(samples(task_id, True)):
        assert sample.truth is not None
        status = SampleStatus.FAILED if index == 0 else SampleStatus.CONVERGED
        store_round(task_id, sample.sample_index, sample.truth, status)
    for index in range(3):
        store_round(task_id, index, {"UTS": 780.0, "El": 17.0}, SampleStatus.CONVERGED)
    with unit_of_work() as session:
        assert task_store.finish_if_done(session, task_id)
    seen = results(task_id)
    assert seen["calibration"]["half_widths"] == {"UTS": None, "El": None}
    assert seen["calibration"]["n"] == 8
    assert "at least 9" in seen["calibration"]["note"]
    assert seen["history"]["samples"]["sample_0"]["intervals"] == {}
    assert seen["accuracy"]["interval_coverage"] == {"UTS": None, "El": None}


def test_calibration_sample_limits(env):
    with pytest.raises(InvalidConfig, match="at most 11 with this reference file"):
        env.create(calibration_samples=12)
    env.settings.MAX_CALIBRATION_SAMPLES = 3
    with pytest.raises(InvalidConfig, match="MAX_CALIBRATION_SAMPLES=3"):
        env.create(calibration_samples=4)
    # The baseline accepts the field and ignores it: no extra rows (its leave-one-out intervals
    # come with its first batch, tests/worker/test_queue.py).
    task_id = env.create(calibration_samples=500, llm_provider="baseline")
    assert samples(task_id, True) == []
    with unit_of_work() as session:
        assert session.get_one(Task, task_id).calibration_samples == 0
    # Without the field an LLM task has none, and no intervals.
    plain = env.create()
    assert samples(plain, True) == []
    with unit_of_work() as session:
        assert session.get_one(Task, plain).calibration is None
