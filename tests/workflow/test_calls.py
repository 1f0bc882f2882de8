"""The loop's call seam (backend/workflow/calls.py): gates around each attempt, the answer cache,
a 429's pause — with a real LlmPredictor against the fake OpenAI-compatible server, and
in-memory gates and cache."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from backend.workflow.calls import cache_key
from backend.workflow.llm import LlmReply, prompt_messages
from backend.workflow.predictors import Answer, LlmPredictor, RunLimits
from backend.workflow.prompts import render_prompt
from devstack.fakellm import FakeLlm
from tests.helpers import fake_llm_predictor, task_data, unique_ids

VALUES = {"UTS": 800.0, "El": 15.0}


class RecordingGate:
    """Records when it is entered and left, whether the task's slot was held then, and pauses."""

    def __init__(self, name: str, events: list[Any], slots: asyncio.Semaphore) -> None:
        self.name = name
        self.events = events
        self.slots = slots

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        self.events.append(("enter", self.name, self.slots.locked()))
        try:
            yield
        finally:
            self.events.append(("exit", self.name))

    def call(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._held()

    async def pause(self, seconds: float) -> None:
        self.events.append(("pause", self.name, seconds))


class MemoryCache:
    def __init__(self) -> None:
        self.entries: dict[str, LlmReply] = {}
        self.gets = 0

    async def get(self, key: str) -> LlmReply | None:
        self.gets += 1
        return self.entries.get(key)

    async def put(self, key: str, reply: LlmReply) -> None:
        self.entries.setdefault(key, reply)


def predict(p: LlmPredictor, limits: RunLimits | None = None) -> Answer:
    async def go() -> Answer:
        return await p.predict(0, [], limits or RunLimits(asyncio.Semaphore(2), asyncio.Event()))

    return asyncio.run(go())


def test_cache_key_is_a_sha256_of_provider_model_and_messages():
    messages = [{"role": "user", "content": "hi"}]
    key = cache_key("openai", "m", messages)
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == cache_key("openai", "m", [{"content": "hi", "role": "user"}])  # canonical
    assert key != cache_key("gemini", "m", messages)
    assert key != cache_key("openai", "m2", messages)
    assert key != cache_key("openai", "m", [{"role": "user", "content": "hi!"}])


def test_gates_are_entered_in_order_inside_the_task_slot_around_each_attempt(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [[{"status": 500}, VALUES]]}})
    events: list[Any] = []
    slots = asyncio.Semaphore(1)
    gates = [RecordingGate("provider", events, slots), RecordingGate("other", events, slots)]
    answer = predict(
        fake_llm_predictor(fake_llm, ids, gates=gates), RunLimits(slots, asyncio.Event())
    )
    assert answer.values == VALUES and answer.attempts == 2 and not answer.cached
    one_attempt = [
        ("enter", "provider", True),
        ("enter", "other", True),
        ("exit", "other"),
        ("exit", "provider"),
    ]
    assert events == one_attempt * 2
    assert len(fake_llm.calls(ids[0])) == 2


def test_a_429_with_retry_after_pauses_every_gate_before_the_retry(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [[{"status": 429, "retry_after": 1}, VALUES]]}})
    events: list[Any] = []
    slots = asyncio.Semaphore(1)
    gates = [RecordingGate("a", events, slots), RecordingGate("b", events, slots)]
    answer = predict(
        fake_llm_predictor(fake_llm, ids, gates=gates), RunLimits(slots, asyncio.Event())
    )
    assert answer.attempts == 2
    pauses = [e for e in events if e[0] == "pause"]
    # Capped at RETRY_MAX_WAIT_SECONDS, as the caller's own wait is.
    assert pauses == [("pause", "a", 0.05), ("pause", "b", 0.05)]
    first_pause = events.index(pauses[0])
    assert events[:first_pause] == [
        ("enter", "a", True),
        ("enter", "b", True),
        ("exit", "b"),
        ("exit", "a"),
    ]
    assert events[first_pause + 2][:2] == ("enter", "a")  # the retry comes after the pauses


def test_a_500_does_not_pause(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [[{"status": 500}, VALUES]]}})
    events: list[Any] = []
    slots = asyncio.Semaphore(1)
    predict(fake_llm_predictor(fake_llm, ids, gates=[RecordingGate("a", events, slots)]))
    assert not [e for e in events if e[0] == "pause"]


def test_a_cache_hit_makes_no_call_and_costs_nothing(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})
    cache = MemoryCache()
    events: list[Any] = []
    slots = asyncio.Semaphore(1)
    p = fake_llm_predictor(fake_llm, ids, cache=cache, gates=[RecordingGate("a", events, slots)])
    first = predict(p)
    assert not first.cached and first.attempts == 1 and len(cache.entries) == 1
    events.clear()

    second = predict(p)
    assert len(fake_llm.calls(ids[0])) == 1 and events == []  # no provider call, no gate
    assert second.cached and second.attempts == 0 and second.cost_usd == 0
    assert second.values == first.values and second.raw == first.raw
    assert second.reasoning == first.reasoning
    assert (second.prompt_tokens, second.completion_tokens) == (
        first.prompt_tokens,
        first.completion_tokens,
    )
    data = task_data(ids)
    prompt = render_prompt(data, 0, [], max_rounds=3, threshold=0.01)
    assert second.messages == prompt_messages(prompt) == first.messages
    key = cache_key("openai", "fake-model", prompt_messages(prompt))
    assert set(cache.entries) == {key}


def test_an_answer_that_did_not_parse_is_not_cached(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [[{"text": "no numbers here"}, VALUES]]}})
    cache = MemoryCache()

    class Spy(MemoryCache):
        async def put(self, key: str, reply: LlmReply) -> None:
            assert "no numbers" not in reply.text
            await super().put(key, reply)

    spy = Spy()
    answer = predict(fake_llm_predictor(fake_llm, ids, cache=spy))
    assert answer.attempts == 2 and answer.values == VALUES
    assert len(spy.entries) == 1 and "no numbers" not in next(iter(spy.entries.values())).text

    # A cached answer that no longer parses is not used: the provider is asked.
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})
    prompt = render_prompt(task_data(ids), 0, [], max_rounds=3, threshold=0.01)
    cache.entries[cache_key("openai", "fake-model", prompt_messages(prompt))] = LlmReply(
        "garbage", 1, 1, None, 1.0
    )
    before = len(fake_llm.calls(ids[0]))
    assert not predict(fake_llm_predictor(fake_llm, ids, cache=cache)).cached
    assert len(fake_llm.calls(ids[0])) == before + 1


def test_the_cache_is_used_only_at_temperature_zero(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})
    cache = MemoryCache()
    p = fake_llm_predictor(fake_llm, ids, temperature=0.7, cache=cache)
    assert not predict(p).cached
    assert not predict(p).cached
    assert cache.entries == {} and cache.gets == 0
    assert len(fake_llm.calls(ids[0])) == 2


def test_an_unreadable_cache_asks_the_provider(fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})

    class Broken(MemoryCache):
        async def get(self, key: str) -> LlmReply | None:
            raise ConnectionError("database gone")

        async def put(self, key: str, reply: LlmReply) -> None:
            raise ConnectionError("database gone")

    answer = predict(fake_llm_predictor(fake_llm, ids, cache=Broken()))
    assert answer.values == VALUES and not answer.cached
