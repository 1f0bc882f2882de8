"""Provider-wide limits in PostgreSQL (backend/services/provider_limits.py). Separate gate objects
on one key stand for separate processes: they share nothing but the database."""

import asyncio
import itertools
import time
import uuid
from typing import Any

import pytest

from backend.core.config import Settings
from backend.db.session import read_pool
from backend.services.provider_limits import LeaseSemaphore, ProviderGate, provider_gate
from backend.workflow.predictors import RunLimits
from devstack.fakellm import FakeLlm
from tests.helpers import fake_llm_predictor, on_database, task_data, unique_ids

VALUES = {"UTS": 800.0, "El": 15.0}
DEADLINE = 30.0


async def held_rows(key: str) -> list[tuple[Any, ...]]:
    async with read_pool().connection() as connection:
        cursor = await connection.execute(
            "SELECT slot, holder FROM call_slots WHERE key = %s AND holder IS NOT NULL", (key,)
        )
        return await cursor.fetchall()


def test_two_processes_never_hold_more_than_the_limit_at_once(db_url):
    key = f"openai/{uuid.uuid4().hex[:8]}"

    async def body() -> tuple[int, int, list[Any]]:
        gates = [ProviderGate(key, max_concurrent=2), ProviderGate(key, max_concurrent=2)]
        inside = peak = entered = 0

        async def caller(gate: ProviderGate) -> None:
            nonlocal inside, peak, entered
            for _ in range(3):
                async with gate.call():
                    inside += 1
                    entered += 1
                    peak = max(peak, inside)
                    await asyncio.sleep(0.02)
                    inside -= 1

        callers = [caller(gate) for gate in gates for _ in range(5)]
        await asyncio.wait_for(asyncio.gather(*callers), DEADLINE)
        return peak, entered, await held_rows(key)

    peak, entered, held = on_database(db_url, body)
    assert entered == 30
    assert peak == 2  # reached, never exceeded
    assert held == []  # every lease released


def test_calls_through_two_predictors_never_exceed_the_limit_at_the_provider(
    db_url, fake_llm: FakeLlm
):
    """The fake LLM sees the calls in flight: two 'processes' with 8 task slots each, limit 2."""
    ids = unique_ids(8)
    fake_llm.script({i: {"rounds": [{"delay": 0.05, "values": VALUES}]} for i in ids})
    key = f"openai/{uuid.uuid4().hex[:8]}"
    data = task_data(ids)

    async def body() -> None:
        jobs = []
        for half in (range(0, 4), range(4, 8)):
            predictor = fake_llm_predictor(
                fake_llm, ids, 0.7, data=data, gates=[ProviderGate(key, max_concurrent=2)]
            )
            limits = RunLimits(asyncio.Semaphore(8), asyncio.Event())
            jobs += [predictor.predict(position, [], limits) for position in half]
        answers = await asyncio.wait_for(asyncio.gather(*jobs), DEADLINE)
        assert all(a.values == VALUES for a in answers)

    on_database(db_url, body)
    calls = [c for i in ids for c in fake_llm.calls(i)]
    assert len(calls) == 8
    edges = sorted([(c.started, 1) for c in calls] + [(c.ended, -1) for c in calls])
    in_flight = peak = 0
    for _, step in edges:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak == 2


def test_a_lease_whose_holder_vanished_is_reclaimed_after_it_expires(db_url):
    key = f"task:{uuid.uuid4().hex[:8]}"

    async def body() -> float:
        # A holder killed while holding: it took the only slot, and never renews nor releases.
        dead = LeaseSemaphore(key, 1, ttl_seconds=0.6)
        await dead._acquire(uuid.uuid4().hex)
        alive = LeaseSemaphore(key, 1, ttl_seconds=0.6)
        started = time.monotonic()
        async with asyncio.timeout(DEADLINE), alive.hold():
            return time.monotonic() - started

    waited = on_database(db_url, body)
    assert 0.45 <= waited < 5


def test_a_live_holder_keeps_its_lease_past_the_ttl(db_url):
    key = f"task:{uuid.uuid4().hex[:8]}"

    async def body() -> tuple[float, float]:
        first = LeaseSemaphore(key, 1, ttl_seconds=0.3)
        second = LeaseSemaphore(key, 1, ttl_seconds=0.3)
        inside = asyncio.Event()
        left_at = 0.0

        async def hold_long() -> None:
            nonlocal left_at
            async with first.hold():
                inside.set()
                await asyncio.sleep(1.0)  # > 3 × ttl: kept by its renewals
                left_at = time.monotonic()

        holder = asyncio.create_task(hold_long())
        await asyncio.wait_for(inside.wait(), DEADLINE)
        async with asyncio.timeout(DEADLINE), second.hold():
            entered_at = time.monotonic()
        await holder
        return left_at, entered_at

    left_at, entered_at = on_database(db_url, body)
    assert entered_at >= left_at


def test_a_cancelled_waiter_leaves_no_lease_behind(db_url):
    key = f"task:{uuid.uuid4().hex[:8]}"

    async def body() -> list[Any]:
        sem = LeaseSemaphore(key, 1)
        async with sem.hold():
            waiter = asyncio.create_task(sem.hold().__aenter__())
            await asyncio.sleep(0.1)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        async with asyncio.timeout(DEADLINE), sem.hold():  # the slot is free again
            pass
        return await held_rows(key)

    assert on_database(db_url, body) == []


def test_calls_per_minute_throttle_every_process_together(db_url):
    key = f"openai/{uuid.uuid4().hex[:8]}"

    async def body() -> list[float]:
        gates = [ProviderGate(key, per_minute=600), ProviderGate(key, per_minute=600)]
        starts: list[float] = []

        async def caller(gate: ProviderGate) -> None:
            for _ in range(3):
                async with gate.call():
                    starts.append(time.monotonic())

        await asyncio.wait_for(asyncio.gather(*(caller(g) for g in gates)), DEADLINE)
        return sorted(starts)

    starts = on_database(db_url, body)
    # 600 a minute: one start every 0.1 s (a bucket of one token), whichever process asks.
    assert len(starts) == 6
    assert starts[-1] - starts[0] >= 0.45
    assert all(b - a >= 0.06 for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize(
    ("max_concurrent", "per_minute"), [(0, 0), (2, 0), (0, 6000)], ids=["none", "slots", "rate"]
)
def test_a_pause_makes_every_gate_on_the_key_wait(db_url, max_concurrent: int, per_minute: int):
    key = f"openai/{uuid.uuid4().hex[:8]}"

    async def body() -> tuple[float, float]:
        def gate(name: str) -> ProviderGate:
            return ProviderGate(name, max_concurrent=max_concurrent, per_minute=per_minute)

        got_429, other_process, other_model = gate(key), gate(key), gate(key + "-other")
        async with got_429.call():
            pass
        await got_429.pause(0.6)
        started = time.monotonic()
        async with asyncio.timeout(DEADLINE), other_model.call():
            unaffected = time.monotonic() - started
        async with asyncio.timeout(DEADLINE), other_process.call():
            waited = time.monotonic() - started
        return unaffected, waited

    unaffected, waited = on_database(db_url, body)
    assert unaffected < 0.3
    assert 0.5 <= waited < 5


def test_one_gate_object_per_process_and_key():
    settings = Settings(LLM_MAX_CONCURRENT_CALLS=3, LLM_MAX_CALLS_PER_MINUTE=60)
    gate = provider_gate(settings, "openai", "m")
    assert provider_gate(settings, "openai", "m") is gate
    assert provider_gate(settings, "openai", "other") is not gate
    assert isinstance(gate, ProviderGate) and gate.key == "openai/m"
    assert gate.per_minute == 60
