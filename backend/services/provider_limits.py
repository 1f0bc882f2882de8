"""Provider-wide limits shared by every process (API and workers, on any machine): the CallGate of
backend/workflow/calls.py, kept in PostgreSQL.

- `LeaseSemaphore(key, size)`: at most `size` holders at once across all processes. Each holder
  leases a row of `call_slots` (key, slot); a lease expires `ttl_seconds` after it was taken or
  last renewed, so a killed holder frees its slot by itself; a live one renews while it holds.
- `provider_gate(settings, provider, model)`: per f"{provider}/{model}", LLM_MAX_CONCURRENT_CALLS
  calls in flight (a LeaseSemaphore whose leases last WORKER_STALLED_SECONDS, renewed while
  held, so a killed worker's slots free about when its batches are requeued),
  LLM_MAX_CALLS_PER_MINUTE call starts (a token bucket: the row of `provider_gates`) and the
  pause a 429's Retry-After sets (`paused_until` of that row): no call starts before it.
  0 = no limit; the pause always applies.

Every statement is one autocommit statement on the async read pool (no transaction is held while
waiting); contended rows are taken with FOR UPDATE SKIP LOCKED, so a waiter never blocks on a row
lock. Waiting is polling, with a short backoff (20 ms to 50 ms), by at most one coroutine per
process and key: the others wait their turn on a local lock, and a release in this process wakes
the poller at once. All times are the database's, so machines' clocks do not matter.
"""

import asyncio
import contextlib
import logging
import math
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from backend.core.config import Settings
from backend.db.session import read_pool
from backend.workflow.calls import CallGate

logger = logging.getLogger(__name__)

FIRST_POLL_SECONDS = 0.02
LAST_POLL_SECONDS = 0.05  # a slot freed in another process is seen within this
PAUSE_CHECK_SECONDS = 1.0  # how old a reading of `paused_until` may be (unlimited gates only)

_ENSURE_SLOTS = """
INSERT INTO call_slots (key, slot, holder, expires_at)
SELECT %(key)s, s, NULL, now() FROM generate_series(0, %(size)s - 1) AS s
ON CONFLICT (key, slot) DO NOTHING
"""
# A free slot (never taken, released, or its lease expired) becomes ours.
_TAKE_SLOT = """
UPDATE call_slots c
SET holder = %(holder)s, expires_at = now() + make_interval(secs => %(ttl)s)
FROM (
    SELECT key, slot FROM call_slots
    WHERE key = %(key)s AND slot < %(size)s AND (holder IS NULL OR expires_at <= now())
    ORDER BY slot LIMIT 1
    FOR UPDATE SKIP LOCKED
) free
WHERE c.key = free.key AND c.slot = free.slot
RETURNING c.slot
"""
_RENEW_SLOT = """
UPDATE call_slots SET expires_at = now() + make_interval(secs => %(ttl)s)
WHERE key = %(key)s AND slot = %(slot)s AND holder = %(holder)s
"""
_RELEASE = """
UPDATE call_slots SET holder = NULL, expires_at = now()
WHERE key = %(key)s AND holder = %(holder)s
"""
_DROP_SLOTS = "DELETE FROM call_slots WHERE key = %(key)s"

_ENSURE_GATE = """
INSERT INTO provider_gates (key, tokens, refilled_at) VALUES (%(key)s, %(burst)s, now())
ON CONFLICT (key) DO NOTHING
"""
# One token of the bucket (refilled at `rate` per second up to `burst`) unless paused or empty;
# either way: how long the pause still lasts, and the tokens there were.
_TAKE_TOKEN = """
WITH g AS (
    SELECT key, paused_until,
           least(%(burst)s::float8, tokens
                 + greatest(extract(epoch FROM now() - refilled_at)::float8, 0) * %(rate)s)
               AS available
    FROM provider_gates WHERE key = %(key)s
    FOR UPDATE SKIP LOCKED
), taken AS (
    UPDATE provider_gates p SET tokens = g.available - 1, refilled_at = now()
    FROM g
    WHERE p.key = g.key AND g.available >= 1
      AND (g.paused_until IS NULL OR g.paused_until <= now())
    RETURNING p.key
)
SELECT EXISTS (SELECT 1 FROM taken) AS taken,
       greatest(coalesce(extract(epoch FROM g.paused_until - now())::float8, 0), 0) AS pause_left,
       g.available
FROM g
"""
_PAUSE_LEFT = """
SELECT greatest(coalesce(extract(epoch FROM paused_until - now())::float8, 0), 0)
FROM provider_gates WHERE key = %(key)s
"""
_PAUSE = """
INSERT INTO provider_gates (key, tokens, refilled_at, paused_until)
VALUES (%(key)s, %(burst)s, now(), now() + make_interval(secs => %(seconds)s))
ON CONFLICT (key) DO UPDATE
SET paused_until = greatest(provider_gates.paused_until, excluded.paused_until)
"""

# Fire-and-forget statements (a release when the holder was cancelled) are kept alive here.
_background: set[asyncio.Task[Any]] = set()


def _in_background(coroutine: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


@dataclass
class _Local:
    """One event loop's waiting room for one key: the poller's turn and the release signal."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    freed: asyncio.Event = field(default_factory=asyncio.Event)


class _PerLoop:
    """asyncio primitives belong to one event loop: one set per running loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Local] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> _Local:
        loop = asyncio.get_running_loop()
        local = self._by_loop.get(loop)
        if local is None:
            local = self._by_loop[loop] = _Local()
        return local


async def _wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    # asyncio.timeout, not wait_for: in Python 3.11 wait_for could swallow a cancel that came
    # as it timed out, and a cancelled holder went on polling for a slot.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


class _Db:
    def __init__(self, pool: AsyncConnectionPool | None) -> None:
        self._pool = pool

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool if self._pool is not None else read_pool()

    async def execute(self, sql: str, params: dict[str, Any]) -> None:
        async with self.pool.connection() as connection:
            await connection.execute(sql, params)

    async def one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchone()


class LeaseSemaphore:
    """At most `size` holders of `key` at once, across every process on the database.

    `hold()` waits for a slot (polling, see the module's docstring) and leases it; the lease is
    renewed every `ttl_seconds / 3` while held and released on exit. A holder that dies without
    releasing frees its slot `ttl_seconds` after its last renewal. Keep one object per key in a
    process (e.g. f"task:{id}" for a task's `max_workers`): its coroutines then share one poller.
    `drop()` deletes the key's rows once it is no longer needed."""

    def __init__(
        self,
        key: str,
        size: int,
        *,
        ttl_seconds: float = 90.0,
        pool: AsyncConnectionPool | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a LeaseSemaphore needs at least one slot")
        self.key = key[:300]
        self.size = size
        self.ttl_seconds = ttl_seconds
        self._db = _Db(pool)
        self._local = _PerLoop()
        self._rows_ready = False

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "ttl": self.ttl_seconds} | extra

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        holder = uuid.uuid4().hex
        slot = await self._acquire(holder)
        renewing = asyncio.ensure_future(self._renew(slot, holder))
        try:
            yield
        finally:
            renewing.cancel()
            release = asyncio.ensure_future(self._release(holder))
            try:
                await asyncio.shield(release)
            except asyncio.CancelledError:
                _background.add(release)  # it still runs; keep it alive
                release.add_done_callback(_background.discard)
                raise

    async def _acquire(self, holder: str) -> int:
        local = self._local.get()
        async with local.turn:  # one poller per process and key; the others queue here
            if not self._rows_ready:
                await self._db.execute(_ENSURE_SLOTS, self._params())
                self._rows_ready = True
            delay = FIRST_POLL_SECONDS
            while True:
                local.freed.clear()
                try:
                    row = await self._db.one(_TAKE_SLOT, self._params(holder=holder))
                except asyncio.CancelledError:
                    # The statement may have taken a slot before the cancel reached it.
                    _in_background(self._release(holder))
                    raise
                if row is not None:
                    return int(row[0])
                if delay >= LAST_POLL_SECONDS:  # long busy: are the rows (still) there?
                    await self._db.execute(_ENSURE_SLOTS, self._params())
                await _wait_or_timeout(local.freed, delay)
                delay = min(delay * 2, LAST_POLL_SECONDS)

    async def _renew(self, slot: int, holder: str) -> None:
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            try:
                await self._db.execute(_RENEW_SLOT, self._params(slot=slot, holder=holder))
            except Exception:
                logger.warning("lease not renewed", extra={"key": self.key}, exc_info=True)

    async def _release(self, holder: str) -> None:
        try:
            await self._db.execute(_RELEASE, self._params(holder=holder))
        except Exception:  # it expires by itself
            logger.warning("lease not released", extra={"key": self.key}, exc_info=True)
        with contextlib.suppress(RuntimeError):  # no loop left: nobody is waiting here
            self._local.get().freed.set()

    async def drop(self) -> None:
        """Forget the key (e.g. a finished task's): its rows are deleted."""
        await self._db.execute(_DROP_SLOTS, self._params())
        self._rows_ready = False


class ProviderGate:
    """The CallGate of one provider and model (see the module's docstring)."""

    def __init__(
        self,
        key: str,
        *,
        max_concurrent: int = 0,
        per_minute: int = 0,
        lease_seconds: float = 90.0,
        burst: float = 1.0,
        pause_check_seconds: float = PAUSE_CHECK_SECONDS,
        pool: AsyncConnectionPool | None = None,
    ) -> None:
        self.key = key[:300]
        self.per_minute = per_minute
        # A bucket of `burst` tokens (1: call starts spaced 60/per_minute seconds apart, so no
        # minute ever sees more than per_minute + 1).
        self.burst = max(float(burst), 1.0)
        self.pause_check_seconds = pause_check_seconds
        self._db = _Db(pool)
        self._slots = (
            LeaseSemaphore(key, max_concurrent, ttl_seconds=lease_seconds, pool=pool)
            if max_concurrent > 0
            else None
        )
        self._token_turn = _PerLoop()
        self._pause_turn = _PerLoop()
        self._gate_ready = False
        # This process's latest reading of the pause: it lasts until `_paused_until`
        # (time.monotonic()), read at `_checked_at`.
        self._paused_until = 0.0
        self._checked_at = -math.inf

    def call(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._held()

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        if self.per_minute > 0:
            await self._take_token()  # the bucket's statement also honours the pause
        else:
            await self._wait_for_pause()
        if self._slots is None:
            yield
            return
        async with self._slots.hold():
            # A pause this process learnt of while we waited for the slot.
            left = self._paused_until - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)
            yield

    async def pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        now = time.monotonic()
        self._paused_until = max(self._paused_until, now + seconds)
        self._checked_at = max(self._checked_at, now)
        await self._db.execute(
            _PAUSE, {"key": self.key, "burst": self.burst, "seconds": float(seconds)}
        )

    async def _ensure_gate(self) -> None:
        await self._db.execute(_ENSURE_GATE, {"key": self.key, "burst": self.burst})
        self._gate_ready = True

    async def _take_token(self) -> None:
        rate = self.per_minute / 60.0
        params = {"key": self.key, "burst": self.burst, "rate": rate}
        async with self._token_turn.get().turn:
            if not self._gate_ready:
                await self._ensure_gate()
            delay = FIRST_POLL_SECONDS
            while True:
                row = await self._db.one(_TAKE_TOKEN, params)
                if row is None:  # the row is locked by another taker (or was deleted)
                    await self._ensure_gate()
                    wait = delay
                else:
                    taken, pause_left, available = row
                    if taken:
                        return
                    if pause_left > 0:
                        self._note_pause(pause_left)
                        wait = pause_left
                    else:
                        wait = max((1.0 - available) / rate, delay)
                await asyncio.sleep(wait)
                delay = min(delay * 2, LAST_POLL_SECONDS)

    def _note_pause(self, left: float) -> None:
        now = time.monotonic()
        self._checked_at = now
        self._paused_until = max(self._paused_until, now + left)

    async def _pause_left(self, fresh_after: float) -> float:
        """Seconds the pause still lasts, from a reading taken at or after `fresh_after`."""
        if self._checked_at < fresh_after:
            async with self._pause_turn.get().turn:
                if self._checked_at < fresh_after:
                    row = await self._db.one(_PAUSE_LEFT, {"key": self.key})
                    self._note_pause(float(row[0]) if row else 0.0)
        return self._paused_until - time.monotonic()

    async def _wait_for_pause(self) -> None:
        left = await self._pause_left(time.monotonic() - self.pause_check_seconds)
        while left > 0:
            until = self._paused_until
            await asyncio.sleep(left)
            left = await self._pause_left(until)  # it may have been extended meanwhile


_gates: dict[tuple[str, int, int, float], ProviderGate] = {}


def provider_gate(settings: Settings, provider: str, model: str) -> CallGate:
    """This process's gate for `provider` and `model` (one object per key, so one poller)."""
    key = f"{provider}/{model}"
    # Renewed while held: a killed holder's slots free about when its batches are requeued.
    lease = settings.WORKER_STALLED_SECONDS
    index = (key, settings.LLM_MAX_CONCURRENT_CALLS, settings.LLM_MAX_CALLS_PER_MINUTE, lease)
    gate = _gates.get(index)
    if gate is None:
        gate = _gates[index] = ProviderGate(
            key,
            max_concurrent=settings.LLM_MAX_CONCURRENT_CALLS,
            per_minute=settings.LLM_MAX_CALLS_PER_MINUTE,
            lease_seconds=lease,
        )
    return gate
