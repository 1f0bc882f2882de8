"""A task's place in the job queue (procrastinate's tables, in the task's own transaction).

A task is queued as jobs of TASK_BATCH_SIZE samples: the job rows are written by the same
transaction that writes the task, so a task never exists without its jobs, nor jobs without
their task. Cancelling marks queued jobs cancelled and asks running ones to abort: procrastinate
NOTIFYs their workers, which cancel them at once. Both are one statement, whatever the size.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.core.vocabulary import ACTIVE_SAMPLE_STATUSES, sql_in

QUEUE = "tasks"
BATCH_JOB = "run_batch"

_DEFER = text(
    f"""
    WITH batches AS (
        SELECT (row_number() OVER (ORDER BY sample_index) - 1) / :size AS batch, sample_index
        FROM samples
        WHERE task_id = :task_id AND status IN {sql_in(ACTIVE_SAMPLE_STATUSES)}
    ), jobs AS (
        SELECT batch, jsonb_build_object(
                   'task_id', :task_id, 'samples', jsonb_agg(sample_index ORDER BY sample_index)
               ) AS args
        FROM batches GROUP BY batch
    )
    SELECT coalesce(cardinality(procrastinate_defer_jobs_v1(array_agg(
        ROW('{QUEUE}', '{BATCH_JOB}', :priority, NULL, NULL, args, NULL)
            ::procrastinate_job_to_defer_v1
        ORDER BY batch
    ))), 0)
    FROM jobs
    """
)

# Queued jobs become cancelled; running ones get abort_requested (a trigger NOTIFYs workers).
_CANCEL = text(
    """
    SELECT count(procrastinate_cancel_job_v1(id, true, false))
    FROM procrastinate_jobs
    WHERE (args->>'task_id')::int = :task_id AND status IN ('todo', 'doing') AND id <> :spare
    """
)


def enqueue_task(session: Session, task_id: int, priority: int, batch_size: int) -> int:
    """Queue every unfinished sample of the task; returns the number of jobs."""
    return int(
        session.execute(
            _DEFER, {"task_id": task_id, "priority": priority, "size": batch_size}
        ).scalar_one()
    )


def cancel_jobs(session: Session, task_id: int, spare_job: int = -1) -> int:
    """Cancel the task's jobs but `spare_job` (the job that is itself stopping the task)."""
    return int(session.execute(_CANCEL, {"task_id": task_id, "spare": spare_job}).scalar_one())
