"""Task lifecycle: check a configuration, create a task, list, cancel, retry failed samples.

Everything checkable is checked before a row is written: a bad request creates nothing. Checks
retrieve nothing: the nearest references are the worker's (backend/worker/batch.py).
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
from backend.services import csv_files, estimates, queue, task_store
from backend.services.paths import resolve_data_path
from backend.workflow.llm import missing_credentials
from backend.workflow.prompts import render_prompt
from backend.workflow.task_data import (
    CheckedTables,
    SampleInput,
    TaskDataError,
    calibration_samples,
    check_tables,
    composition_frame,
    find_id_column,
    max_calibration_samples,
    tables_data,
)


@dataclass
class CheckedConfig:
    request: StartRequest
    tables: CheckedTables
    # An LLM task's calibration samples (none for the baseline, or calibration_samples 0).
    calibration: list[SampleInput]


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


def _check_sample_ids(tables: CheckedTables, id_column: str | None) -> None:
    for sample in tables.samples:
        if len(sample.sample_id) > MAX_SAMPLE_ID:
            raise InvalidConfig(
                f"id_column {id_column}: values must be at most {MAX_SAMPLE_ID} "
                f"characters (row {sample.index + 1} has {len(sample.sample_id)})"
            )


# ---------------------------------------------------------------------------------------------


def checked_tables(settings: Settings, config: dict[str, Any]) -> CheckedTables:
    test, reference = load_tables(settings, config)
    try:
        tables = check_tables(
            test,
            reference,
            list(config["target_properties"]),
            feature_columns=config.get("feature_columns"),
            id_column=config.get("id_column"),
        )
    except TaskDataError as exc:
        raise InvalidConfig(str(exc)) from exc
    _check_sample_ids(tables, config.get("id_column") or find_id_column(test, None))
    return tables


def check_config(settings: Settings, request: StartRequest) -> CheckedConfig:
    """Every check `start` makes; nothing is retrieved here (the worker retrieves per batch)."""
    if not request.enable_iteration:
        raise InvalidConfig("enable_iteration must be true on this endpoint")
    if len(set(request.target_properties)) != len(request.target_properties):
        raise InvalidConfig("target_properties: each target may be named once")
    problem = missing_credentials(request.llm_provider, settings)
    if problem:
        raise ProviderUnavailable(f"llm_provider {request.llm_provider}: {problem}")
    tables = checked_tables(settings, run_config(request))
    return CheckedConfig(request, tables, _calibration_samples(settings, request, tables))


def _calibration_samples(
    settings: Settings, request: StartRequest, tables: CheckedTables
) -> list[SampleInput]:
    """The baseline accepts calibration_samples and ignores it: it calibrates by leave-one-out."""
    count = request.calibration_samples
    if request.llm_provider == Provider.BASELINE or count == 0:
        return []
    if count > settings.MAX_CALIBRATION_SAMPLES:
        raise InvalidConfig(
            f"calibration_samples: {count}; at most MAX_CALIBRATION_SAMPLES="
            f"{settings.MAX_CALIBRATION_SAMPLES}"
        )
    limit = max_calibration_samples(tables.part)
    if count > limit:
        raise InvalidConfig(
            f"calibration_samples: {count}; at most {limit} with this reference file (its "
            f"{limit + 1} rows with every target, minus 1: each needs another row as neighbour)"
        )
    return calibration_samples(tables, count, first_index=len(tables.samples))


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


def create_task(
    session: Session, settings: Settings, checked: CheckedConfig, owner_id: int | None = None
) -> Task:
    """The task, its samples and its jobs, in the caller's transaction. Samples are stored
    without neighbours: the worker that first runs one retrieves them and stores them."""
    request = checked.request
    tables = checked.tables
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
        # The resolved columns: batches rebuild prompts and retrieval from the reference alone.
        config={
            **run_config(request),
            "features": tables.feature_columns,
            "feature_kinds": {"numeric": tables.numeric, "categorical": tables.categorical},
        },
        total_samples=len(tables.samples),
        calibration_samples=len(checked.calibration),
        priority=request.priority,
        max_cost_usd=request.max_cost_usd,
    )
    session.add(task)
    session.flush()
    # In slices: a 100 000-sample task never holds all its rows as dicts at once. Calibration
    # samples come after the test samples in sample_index, so their jobs come last.
    everything = [(s, False) for s in tables.samples] + [(s, True) for s in checked.calibration]
    for first in range(0, len(everything), INSERT_SLICE):
        rows = [_sample_row(task.id, s, c) for s, c in everything[first : first + INSERT_SLICE]]
        session.execute(insert(Sample), rows)
    queue.enqueue_task(session, task.id, task.priority, settings.TASK_BATCH_SIZE)
    return task


def _sample_row(task_id: int, sample: SampleInput, calibration: bool) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "sample_index": sample.index,
        "sample_id": sample.sample_id,
        "composition": sample.composition,
        "truth": sample.truth,
        "status": SampleStatus.PENDING,
        "iterations_done": 0,
        "calibration": calibration,
    }


def preview_prompt(settings: Settings, request: PromptPreviewRequest) -> dict[str, Any]:
    checked = check_config(settings, request)
    tables = checked.tables
    if request.sample_index >= len(tables.samples):
        raise InvalidConfig(f"sample_index must be between 0 and {len(tables.samples) - 1}")
    # Retrieval for the previewed sample alone.
    sample = tables.samples[request.sample_index]
    neighbours, distances = tables.index().nearest(
        composition_frame([sample], tables.feature_columns), request.reference_top_k
    )
    data = tables_data(tables, [sample], neighbours, distances)
    prompt = render_prompt(
        data, 0, [], max_rounds=request.max_iterations, threshold=request.convergence_threshold
    )
    return {
        "sample_index": sample.index,
        "sample_id": sample.sample_id,
        "prompt": prompt,
        "estimate": estimates.estimate(settings, request, data, len(tables.samples)),
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
