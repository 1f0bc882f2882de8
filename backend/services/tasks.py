"""Task lifecycle: check a configuration, create a task, list, cancel, retry failed samples.

Everything checkable is checked before a row is written: a bad request creates nothing.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import cast, func, insert, literal, select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import (
    DatasetUnreadable,
    InvalidConfig,
    NothingToRetry,
    ProviderUnavailable,
    TaskAlreadyFinished,
    TaskNotFound,
)
from backend.core.vocabulary import (
    ACTIVE_TASK_STATUSES,
    EarlyStopReason,
    Provider,
    SampleStatus,
    TaskStatus,
)
from backend.db.models import Prediction, Sample, Task
from backend.schemas import PromptPreviewRequest, RetryRequest, StartRequest
from backend.services import csv_files, estimates, intervals, queue, task_store
from backend.services.paths import resolve_data_path
from backend.workflow.llm import missing_credentials
from backend.workflow.prompts import render_prompt
from backend.workflow.task_data import (
    CalibrationSet,
    SampleInput,
    TaskData,
    TaskDataError,
    calibration_set,
    find_id_column,
    max_calibration_samples,
    neighbour_pairs,
    prepare,
    stored_neighbours,
)


@dataclass
class CheckedConfig:
    request: StartRequest
    data: TaskData
    # An LLM task's calibration samples (none for the baseline, or calibration_samples 0).
    calibration: CalibrationSet | None = None


def load_tables(settings: Settings, config: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = []
    for field in ("test_file_path", "reference_file_path"):
        path = resolve_data_path(settings.DATA_DIR, config[field], field)
        try:
            tables.append(csv_files.read(path))
        except csv_files.CsvError as exc:
            raise DatasetUnreadable(f"{field}: {exc}") from exc
    _check_sample_cap(settings, tables[0])
    return tables[0], tables[1]


# --- caps on what one task may hold (issue 10) ---------------------------------------------

MAX_SAMPLE_ID = 255  # samples.sample_id is VARCHAR(255)
INSERT_SLICE = 5000


def _check_sample_cap(settings: Settings, test: pd.DataFrame) -> None:
    if len(test) > settings.MAX_TASK_SAMPLES:
        raise InvalidConfig(
            f"test_file_path: {len(test)} rows; a task takes at most MAX_TASK_SAMPLES="
            f"{settings.MAX_TASK_SAMPLES} samples (split the file)"
        )


def _check_sample_ids(data: TaskData, id_column: str | None) -> None:
    for sample in data.samples:
        if len(sample.sample_id) > MAX_SAMPLE_ID:
            raise InvalidConfig(
                f"id_column {id_column}: values must be at most {MAX_SAMPLE_ID} "
                f"characters (row {sample.index + 1} has {len(sample.sample_id)})"
            )


# ---------------------------------------------------------------------------------------------


def prepare_task_data(
    settings: Settings, config: dict[str, Any], sample_indices: list[int] | None = None
) -> TaskData:
    test, reference = load_tables(settings, config)
    try:
        data = prepare(
            test,
            reference,
            list(config["target_properties"]),
            top_k=config.get("reference_top_k", 5),
            feature_columns=config.get("feature_columns"),
            id_column=config.get("id_column"),
            sample_indices=sample_indices,
        )
    except TaskDataError as exc:
        raise InvalidConfig(str(exc)) from exc
    _check_sample_ids(data, config.get("id_column") or find_id_column(test, None))
    return data


def check_config(settings: Settings, request: StartRequest) -> CheckedConfig:
    if not request.enable_iteration:
        raise InvalidConfig("enable_iteration must be true on this endpoint")
    if len(set(request.target_properties)) != len(request.target_properties):
        raise InvalidConfig("target_properties: each target may be named once")
    problem = missing_credentials(request.llm_provider, settings)
    if problem:
        raise ProviderUnavailable(f"llm_provider {request.llm_provider}: {problem}")
    data = prepare_task_data(settings, run_config(request))
    return CheckedConfig(request, data, _calibration_set(settings, request, data))


def _calibration_set(
    settings: Settings, request: StartRequest, data: TaskData
) -> CalibrationSet | None:
    """The baseline accepts calibration_samples and ignores it: it calibrates by leave-one-out."""
    count = request.calibration_samples
    if request.llm_provider == Provider.BASELINE or count == 0:
        return None
    if count > settings.MAX_CALIBRATION_SAMPLES:
        raise InvalidConfig(
            f"calibration_samples: {count}; at most MAX_CALIBRATION_SAMPLES="
            f"{settings.MAX_CALIBRATION_SAMPLES}"
        )
    limit = max_calibration_samples(data)
    if count > limit:
        raise InvalidConfig(
            f"calibration_samples: {count}; at most {limit} with this reference file (its "
            f"{limit + 1} rows with every target, minus 1: each needs another row as neighbour)"
        )
    return calibration_set(data, count, request.reference_top_k, first_index=len(data.samples))


def run_config(request: StartRequest) -> dict[str, Any]:
    """What the run reads back from the task row (never a key: keys stay in settings)."""
    return request.model_dump(
        include={
            "test_file_path",
            "reference_file_path",
            "target_properties",
            "reference_top_k",
            "feature_columns",
            "id_column",
        }
    )


def calibration(checked: CheckedConfig) -> dict[str, Any] | None:
    """The baseline always has intervals; an LLM task's come when it completes, from its
    calibration samples (task_store.finish_if_done)."""
    if checked.request.llm_provider != "baseline":
        return None
    return intervals.baseline_calibration(checked.data, checked.request.reference_top_k)


def create_task(
    session: Session, settings: Settings, checked: CheckedConfig, owner_id: int | None = None
) -> Task:
    """The task, its samples (with their nearest references, computed once here) and its jobs,
    in the caller's transaction."""
    request = checked.request
    task = Task(
        owner_id=owner_id,
        name=request.task_name,
        description=request.task_description,
        status=TaskStatus.PENDING,
        llm_provider=request.llm_provider,
        llm_model="knn" if request.llm_provider == Provider.BASELINE else request.llm_model,
        temperature=request.temperature,
        max_iterations=request.max_iterations,
        convergence_threshold=request.convergence_threshold,
        early_stop=request.early_stop,
        max_workers=request.max_workers,
        target_properties=request.target_properties,
        # The resolved input columns: batches rebuild prompts from the reference file alone.
        config={**run_config(request), "features": checked.data.feature_columns},
        total_samples=len(checked.data.samples),
        calibration=calibration(checked),
        calibration_samples=len(checked.calibration.samples) if checked.calibration else 0,
        priority=request.priority,
        max_cost_usd=request.max_cost_usd,
    )
    session.add(task)
    session.flush()
    # In slices: a 100 000-sample task never holds all its rows as dicts at once.
    data = checked.data
    for first in range(0, len(data.samples), INSERT_SLICE):
        rows = [
            _sample_row(task.id, s, stored_neighbours(data, position), calibration=False)
            for position, s in enumerate(data.samples[first : first + INSERT_SLICE], start=first)
        ]
        session.execute(insert(Sample), rows)
    if checked.calibration is not None:
        # After the test samples in sample_index, so their jobs come last.
        extra = checked.calibration
        rows = [
            _sample_row(
                task.id,
                s,
                neighbour_pairs(extra.neighbours[j], extra.distances[j]),
                calibration=True,
            )
            for j, s in enumerate(extra.samples)
        ]
        session.execute(insert(Sample), rows)
    queue.enqueue_task(session, task.id, task.priority, settings.TASK_BATCH_SIZE)
    return task


def _sample_row(
    task_id: int, sample: SampleInput, neighbours: list[list[float]], calibration: bool
) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "sample_index": sample.index,
        "sample_id": sample.sample_id,
        "composition": sample.composition,
        "truth": sample.truth,
        "neighbours": neighbours,
        "status": SampleStatus.PENDING,
        "iterations_done": 0,
        "calibration": calibration,
    }


def preview_prompt(settings: Settings, request: PromptPreviewRequest) -> dict[str, Any]:
    checked = check_config(settings, request)
    if request.sample_index >= len(checked.data.samples):
        raise InvalidConfig(f"sample_index must be between 0 and {len(checked.data.samples) - 1}")
    sample = checked.data.samples[request.sample_index]
    prompt = render_prompt(
        checked.data,
        request.sample_index,
        [],
        max_rounds=request.max_iterations,
        threshold=request.convergence_threshold,
    )
    return {
        "sample_index": sample.index,
        "sample_id": sample.sample_id,
        "prompt": prompt,
        "estimate": estimates.estimate(settings, request, checked.data, request.sample_index),
    }


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def cancel_task(session: Session, task_id: int) -> Task:
    task = get_task(session, task_id)
    if task.status == TaskStatus.CANCELLED:
        return task
    if task.status not in ACTIVE_TASK_STATUSES:
        raise TaskAlreadyFinished(f"task {task_id} is already {task.status}")
    task_store.stop(session, task_id, status=TaskStatus.CANCELLED, reason=EarlyStopReason.CANCELLED)
    session.refresh(task)
    return task


def retry_failed(
    session: Session, settings: Settings, request: RetryRequest, owner_id: int | None = None
) -> tuple[Task, list[int]]:
    original = get_task(session, request.task_id)
    if original.status in ACTIVE_TASK_STATUSES:
        raise NothingToRetry(f"task {original.id} is still {original.status}")
    # Failed samples, and those a cancel, a credential error or the budget stopped early.
    failed = set(
        session.scalars(
            select(Sample.sample_index).where(
                Sample.task_id == original.id,
                Sample.calibration.is_(False),  # only test samples are retried
                (Sample.status == SampleStatus.FAILED)
                | (
                    (Sample.status == SampleStatus.NOT_CONVERGED)
                    & (Sample.iterations_done < original.max_iterations)
                ),
            )
        )
    )
    if not failed:
        raise NothingToRetry(f"task {original.id} has no failed or unfinished sample")
    wanted = sorted(set(request.sample_indices)) if request.sample_indices else sorted(failed)
    not_failed = [i for i in wanted if i not in failed]
    if not_failed:
        raise NothingToRetry(
            f"sample_indices {not_failed} neither failed nor stopped early in task {original.id}"
        )
    for field in ("test_file_path", "reference_file_path"):
        resolve_data_path(settings.DATA_DIR, original.config[field], field)
    task = _copy_task(session, original, len(wanted))
    task.owner_id = owner_id
    _copy_samples(session, original.id, task.id, wanted)
    queue.enqueue_task(session, task.id, task.priority, settings.TASK_BATCH_SIZE)
    return task, wanted


def _copy_task(session: Session, original: Task, total: int) -> Task:
    columns = [
        "llm_provider",
        "llm_model",
        "temperature",
        "max_iterations",
        "convergence_threshold",
        "early_stop",
        "max_workers",
        "target_properties",
        "config",
        "description",
        "priority",
        "max_cost_usd",
        # The original's intervals (same predictor, same configuration) hold for the retried
        # samples' final predictions; the retry has no calibration samples of its own.
        "calibration",
    ]
    task = Task(
        name=f"{original.name} (retry of #{original.id})"[:255],
        status=TaskStatus.PENDING,
        total_samples=total,
        continue_from_task_id=original.id,
        **{c: getattr(original, c) for c in columns},
    )
    session.add(task)
    session.flush()
    return task


def _copy_samples(session: Session, source_id: int, task_id: int, indices: list[int]) -> None:
    """Each sample continues from its own history: succeeded rounds are copied, not re-asked."""
    rounds = dict(
        session.execute(
            select(Prediction.sample_index, func.count())
            .where(Prediction.task_id == source_id, Prediction.sample_index.in_(indices))
            .group_by(Prediction.sample_index)
        ).all()
    )
    originals = session.scalars(
        select(Sample).where(Sample.task_id == source_id, Sample.sample_index.in_(indices))
    ).all()
    session.execute(
        insert(Sample),
        [
            {
                "task_id": task_id,
                "sample_index": s.sample_index,
                "sample_id": s.sample_id,
                "composition": s.composition,
                "truth": s.truth,
                "neighbours": s.neighbours,
                "status": SampleStatus.PENDING,
                "iterations_done": rounds.get(s.sample_index, 0),
            }
            for s in originals
        ],
    )
    copied = select(
        cast(literal(task_id), Prediction.task_id.type),
        Prediction.sample_index,
        Prediction.iteration,
        Prediction.values,
        Prediction.raw_response,
        Prediction.prompt_tokens,
        Prediction.completion_tokens,
        Prediction.cost_usd,
        Prediction.latency_ms,
        Prediction.attempts,
        Prediction.messages_zlib,
        Prediction.reasoning,
        cast(literal(source_id), Prediction.task_id.type),
    ).where(Prediction.task_id == source_id, Prediction.sample_index.in_(indices))
    session.execute(
        insert(Prediction).from_select(
            [
                "task_id",
                "sample_index",
                "iteration",
                "values",
                "raw_response",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd",
                "latency_ms",
                "attempts",
                "messages_zlib",
                "reasoning",
                "copied_from_task_id",
            ],
            copied,
        )
    )
