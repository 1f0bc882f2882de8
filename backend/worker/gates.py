"""Gates a batch's LLM calls pass before each attempt: still its job's owner, within budget,
within the task's own `max_workers` across workers.

Both are `CallGate`s (backend/workflow/calls.py): the predictor enters them around each attempt
and knows nothing of jobs or money.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from backend.db.session import read_pool
from backend.services.provider_limits import LeaseSemaphore
from backend.workflow.predictors import Cancelled

logger = logging.getLogger(__name__)


class JobLease:
    """Whether this worker still owns its job, as the database last said.

    Another worker takes a job over only after its owner's heartbeat has been silent for
    WORKER_STALLED_SECONDS. The owner stops starting calls once it has not heard from the
    database for half that, and for good once the job is no longer its own: so two workers
    never call for one batch, even across a database restart.
    """

    def __init__(self, job_id: int, worker_id: int | None, stalled_seconds: float) -> None:
        self.job_id = job_id
        self.worker_id = worker_id
        self.fresh_for = stalled_seconds / 2
        self.renew_every = stalled_seconds / 6
        self.lost = asyncio.Event()
        # Shared by the batches of one task in this process (the batch sets it): set when a call
        # of one of them was cut short (an abort, a shutdown). The slot that call frees may go to
        # another batch of the task whose own abort is still on its way: before calling, that
        # batch asks the database whether its job is still its own.
        self.interrupted = asyncio.Event()
        self._confirmed = time.monotonic()
        self._done = False

    async def keep(self) -> None:
        """Re-confirm ownership every `renew_every` seconds (run as a background task, until
        `done()`). Its owner awaits it after cancelling it: `done()` ends it even if the cancel
        is lost (Python 3.11's asyncio.wait_for could swallow one that came as it timed out,
        and the batch then waited for this loop for good)."""
        while not self.lost.is_set() and not self._done:
            await asyncio.sleep(self.renew_every)
            try:
                async with asyncio.timeout(self.renew_every):
                    owned = await self._owned()
            except Exception as exc:  # the database is away: the lease just ages
                logger.debug("job lease not confirmed", extra={"error": repr(exc)})
                continue
            self._record(owned)

    def done(self) -> None:
        self._done = True

    def _record(self, owned: bool) -> None:
        if owned:
            self._confirmed = time.monotonic()
        elif not self.lost.is_set():
            logger.warning("job aborted or taken over", extra={"job_id": self.job_id})
            self.lost.set()

    async def _owned(self) -> bool:
        async with read_pool().connection() as connection:
            cursor = await connection.execute(
                "SELECT status = 'doing' AND NOT abort_requested "
                "AND worker_id IS NOT DISTINCT FROM %s FROM procrastinate_jobs WHERE id = %s",
                (self.worker_id, self.job_id),
            )
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def ensure(self) -> None:
        while not self.lost.is_set() and time.monotonic() - self._confirmed > self.fresh_for:
            await asyncio.sleep(0.05)  # waiting for the database to confirm the job is ours
        if self.lost.is_set():
            raise Cancelled()

    @contextlib.asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        await self.ensure()
        if self.interrupted.is_set():
            # The abort that cut another batch's call short was committed before it reached
            # us: if it was this task's, this query sees this job's abort too.
            self._record(await self._owned())
            await self.ensure()
        try:
            yield
        except asyncio.CancelledError:
            self.interrupted.set()  # before the caller's slot is released
            raise

    async def pause(self, seconds: float) -> None:
        return None


class Budget:
    """The task's `max_cost_usd`: no call starts once what it has cost reaches the limit.

    The cost is the task row's `spent_usd` (every stored round adds its price), read before each
    call (a primary-key read, next to a paid call); calls already in flight may finish past it."""

    def __init__(self, task_id: int, limit: float) -> None:
        self.task_id = task_id
        self.limit = limit
        self.exhausted = False

    async def _spent_now(self) -> float:
        async with read_pool().connection() as connection:
            cursor = await connection.execute(
                "SELECT spent_usd FROM tasks WHERE id = %s", (self.task_id,)
            )
            row = await cursor.fetchone()
        return float(row[0]) if row else 0.0

    @contextlib.asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        if self.exhausted or await self._spent_now() >= self.limit:
            self.exhausted = True
            raise Cancelled()
        yield

    async def pause(self, seconds: float) -> None:
        return None


class TaskSlots:
    """The task's `max_workers`: its calls in flight across all its batches, in every worker."""

    def __init__(self, task_id: int, size: int, lease_seconds: float) -> None:
        # Renewed while held: a killed worker's slots free about when its batches are requeued.
        self._semaphore = LeaseSemaphore(f"task:{task_id}", size, ttl_seconds=lease_seconds)

    def call(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._semaphore.hold()

    async def pause(self, seconds: float) -> None:
        return None
