"""The task object of API.md (`GET /api/tasks/{id}`, `GET /api/tasks`), with counters derived
from sample rows, usage from the task's own counters and, while pending, its queue position
(1 + the pending tasks of higher priority, or of equal priority and started before it).

The status endpoint is polled by every open dashboard and script, so it is one prepared
statement (the task row and its sample counters, a LATERAL aggregate) on the async read pool,
turned into JSON by orjson: no ORM objects, no thread hop, no re-validation of our own output.
Writers that answer with a task (cancel) use the same statement through their session."""

from typing import Any

import orjson
from psycopg.rows import namedtuple_row
from sqlalchemy.orm import Session

from backend.core.errors import TaskNotFound
from backend.core.vocabulary import (
    ACTIVE_SAMPLE_STATUSES,
    TERMINAL_TASK_STATUSES,
    Provider,
    SampleStatus,
    TaskStatus,
    sql_in,
)
from backend.db.session import read_pool
from backend.services.accounts import Credential, fetch_one_as
from backend.workflow.predictors import BASELINE_LABEL

_ACTIVE = sql_in(ACTIVE_SAMPLE_STATUSES)
_SELECT = f"""
SELECT t.id, t.name, t.description, t.status, t.llm_provider, t.llm_model, t.target_properties,
       t.max_iterations, t.convergence_threshold, t.early_stop, t.max_workers, t.temperature,
       t.total_samples, t.continue_from_task_id, t.early_stop_reason, t.error,
       t.created_at, t.updated_at, t.started_at, t.completed_at,
       c.total, c.converged, c.failed, c.active, c.active_tests, c.finished_rounds_sum,
       c.active_min_rounds, c.max_rounds,
       t.owner_id, t.priority, t.max_cost_usd, t.spent_usd, t.llm_calls, t.cache_hits,
       t.prompt_tokens, t.completion_tokens, t.calibration_samples, t.calibration,
       CASE WHEN t.status = '{TaskStatus.PENDING}' THEN 1 + (
           SELECT count(*) FROM tasks q
           WHERE q.status = '{TaskStatus.PENDING}'
             AND (q.priority > t.priority OR (q.priority = t.priority AND q.id < t.id))
       ) END AS queue_position
FROM tasks t CROSS JOIN LATERAL (
    -- Counters and rounds: test samples only (calibration samples are hidden). Progress: all the
    -- work, calibration samples included, so it reaches 1 only when the task can complete.
    SELECT count(*) AS total,
           count(*) FILTER (WHERE s.status = '{SampleStatus.CONVERGED}' AND NOT s.calibration)
               AS converged,
           count(*) FILTER (WHERE s.status = '{SampleStatus.FAILED}' AND NOT s.calibration)
               AS failed,
           count(*) FILTER (WHERE s.status IN {_ACTIVE}) AS active,
           count(*) FILTER (WHERE s.status IN {_ACTIVE} AND NOT s.calibration) AS active_tests,
           -- rounds done by samples still iterating
           coalesce(sum(s.iterations_done) FILTER (WHERE s.status IN {_ACTIVE}), 0)
               AS finished_rounds_sum,
           min(s.iterations_done) FILTER (WHERE s.status IN {_ACTIVE} AND NOT s.calibration)
               AS active_min_rounds,
           coalesce(max(s.iterations_done) FILTER (WHERE NOT s.calibration), 0) AS max_rounds
    FROM samples s WHERE s.task_id = t.id
) c
"""
_ONE = _SELECT + "WHERE t.id = %s"
_ORDER = " ORDER BY t.created_at DESC, t.id DESC LIMIT %s OFFSET %s"
_PAGE = _SELECT + "WHERE TRUE" + _ORDER
_PAGE_BY_STATUS = _SELECT + "WHERE t.status = %s" + _ORDER
_COUNT = "SELECT count(*) FROM tasks"
_COUNT_BY_STATUS = _COUNT + " WHERE status = %s"


def provider_label(provider: str, model: str) -> str:
    return BASELINE_LABEL if provider == Provider.BASELINE else f"{provider}/{model}"


def usage(row: Any) -> dict[str, Any]:
    """From the task's counters, kept by each stored round (never summed per poll). A model
    litellm has no price for has calls but no cost: its cost is unknown (null), not 0."""
    unpriced = row.llm_provider != Provider.BASELINE and row.llm_calls > 0 and not row.spent_usd
    return {
        "llm_calls": row.llm_calls,
        "cache_hits": row.cache_hits,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "cost_usd": None if unpriced else float(row.spent_usd),
    }


def task_view(row: Any) -> dict[str, Any]:
    """The API object of one row of `_SELECT` (any row with those attribute names)."""
    if row.status in TERMINAL_TASK_STATUSES:
        progress = 1.0
        current = row.max_rounds
    else:
        done = row.total - row.active
        partial = row.finished_rounds_sum / row.max_iterations
        progress = min((done + partial) / row.total, 1.0) if row.total else 0.0
        current = row.active_min_rounds if row.active_tests else row.max_rounds
    return {
        "task_id": row.id,
        "task_name": row.name,
        "task_description": row.description,
        "status": row.status,
        "enable_iteration": True,
        "llm_provider": row.llm_provider,
        "llm_model": row.llm_model,
        "is_baseline": row.llm_provider == Provider.BASELINE,
        "provider_label": provider_label(row.llm_provider, row.llm_model),
        "target_properties": row.target_properties,
        "max_iterations": row.max_iterations,
        "convergence_threshold": row.convergence_threshold,
        "early_stop": row.early_stop,
        "max_workers": row.max_workers,
        "temperature": row.temperature,
        "current_iteration": current or 0,
        "progress": round(progress, 4),
        "converged_samples": row.converged,
        "total_samples": row.total_samples,
        "failed_samples": row.failed,
        "continue_from_task_id": row.continue_from_task_id,
        "early_stop_reason": row.early_stop_reason,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "started_at": row.started_at,
        "completed_at": row.completed_at,
        "error": row.error,
        "owner_id": row.owner_id,
        "priority": row.priority,
        "max_cost_usd": row.max_cost_usd,
        "usage": usage(row),
        "queue_position": row.queue_position,
        "calibration_samples": row.calibration_samples,
        "calibration": row.calibration,
    }


def to_json(document: Any) -> bytes:
    """JSON as the API writes it (UTC datetimes end in Z, as pydantic writes them)."""
    return orjson.dumps(document, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


async def task_json(task_id: int, reader: Credential | None) -> bytes:
    """`GET /api/tasks/{id}` for `reader`: the task object as JSON bytes; 404 if there is no such
    task. The reader's login is checked in the same statement (`fetch_one_as`)."""
    row = await fetch_one_as(reader, _ONE, (task_id,))
    if row is None:
        raise TaskNotFound(task_id)
    return to_json(task_view(row))


async def page_json(limit: int, offset: int, status: str | None) -> bytes:
    """`GET /api/tasks`: newest first, optionally one status; `{items, total, limit, offset}`."""
    async with read_pool().connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        if status:
            await cursor.execute(_PAGE_BY_STATUS, (status, limit, offset))
        else:
            await cursor.execute(_PAGE, (limit, offset))
        items = [task_view(row) for row in await cursor.fetchall()]
        count = await connection.execute(
            _COUNT_BY_STATUS if status else _COUNT, (status,) if status else ()
        )
        (total,) = await count.fetchone() or (0,)
    return to_json({"items": items, "total": total, "limit": limit, "offset": offset})


def view_task(session: Session, task_id: int) -> dict[str, Any]:
    """The task object inside a writer's transaction (it sees the writer's own changes)."""
    row = session.connection().exec_driver_sql(_ONE, (task_id,)).first()
    if row is None:
        raise TaskNotFound(task_id)
    return task_view(row)
