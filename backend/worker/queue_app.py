"""The procrastinate app: its connection to the task database and the one job it runs."""

import asyncio
import logging

import procrastinate
from procrastinate import JobContext, RetryDecision
from procrastinate.retry import BaseRetryStrategy

from backend.db.session import get_engine
from backend.services.queue import BATCH_JOB, QUEUE
from backend.worker.batch import DATABASE_AWAY, BatchRun, WorkerRuntime

logger = logging.getLogger(__name__)


class BatchRetry(BaseRetryStrategy):
    """A batch stopped by a shutdown goes back to the queue at once; one stopped by a database
    error waits a little (capped backoff), as often as it takes: a task never fails for a
    transient database error. A user's abort is not retried (procrastinate fails the job)."""

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_in={"seconds": 0})
        if isinstance(exception, (*DATABASE_AWAY, OSError)):
            return RetryDecision(retry_in={"seconds": min(2**job.attempts, 30)})
        return None


def queue_app() -> procrastinate.App:
    """Call after `init_engine`: the queue lives in the engine's database."""
    url = get_engine().url.set(drivername="postgresql").render_as_string(hide_password=False)
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)

    @app.task(name=BATCH_JOB, queue=QUEUE, pass_context=True, retry=BatchRetry())
    async def run_batch(context: JobContext, task_id: int, samples: list[int]) -> None:
        runtime: WorkerRuntime = context.additional_context["runtime"]
        assert context.job.id is not None
        await BatchRun(runtime, task_id, samples, context.job.id, context.job.worker_id).run()

    return app
