"""The answer cache in PostgreSQL (backend/services/answer_cache.py), with a real LlmPredictor
against the fake OpenAI-compatible server, which counts the requests it gets."""

import asyncio

from backend.core.config import Settings
from backend.db.session import read_pool
from backend.services.answer_cache import PgAnswerCache, answer_cache
from backend.workflow.llm import LlmReply
from backend.workflow.predictors import Answer, LlmPredictor, RunLimits
from devstack.fakellm import FakeLlm
from tests.helpers import fake_llm_predictor, on_database, unique_ids

VALUES = {"UTS": 800.0, "El": 15.0}


def predictor(fake: FakeLlm, ids: list[str], temperature: float) -> LlmPredictor:
    # A new cache object each time: as another process would have.
    return fake_llm_predictor(fake, ids, temperature, cache=answer_cache(Settings()))


async def predict(p: LlmPredictor) -> Answer:
    return await p.predict(0, [], RunLimits(asyncio.Semaphore(1), asyncio.Event()))


async def cache_rows() -> list[tuple[object, ...]]:
    async with read_pool().connection() as connection:
        cursor = await connection.execute(
            "SELECT model, response, prompt_tokens, completion_tokens FROM llm_cache"
        )
        return await cursor.fetchall()


def test_an_identical_call_at_temperature_zero_is_answered_from_the_cache(
    db_url, fake_llm: FakeLlm
):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})

    async def body() -> tuple[Answer, Answer, list[tuple[object, ...]]]:
        first = await predict(predictor(fake_llm, ids, 0.0))
        second = await predict(predictor(fake_llm, ids, 0.0))
        return first, second, await cache_rows()

    first, second, rows = on_database(db_url, body)
    assert len(fake_llm.calls(ids[0])) == 1  # the second made no HTTP request
    assert not first.cached and first.attempts == 1
    assert second.cached and second.attempts == 0 and second.cost_usd == 0
    assert second.values == first.values == VALUES
    assert second.raw == first.raw and second.messages == first.messages
    assert (second.prompt_tokens, second.completion_tokens) == (
        first.prompt_tokens,
        first.completion_tokens,
    )
    assert rows == [("openai/fake-model", first.raw, first.prompt_tokens, first.completion_tokens)]


def test_nothing_is_cached_at_a_nonzero_temperature(db_url, fake_llm: FakeLlm):
    ids = unique_ids(1)
    fake_llm.script({ids[0]: {"rounds": [VALUES]}})

    async def body() -> tuple[list[Answer], list[tuple[object, ...]]]:
        answers = [await predict(predictor(fake_llm, ids, 0.7)) for _ in range(2)]
        return answers, await cache_rows()

    answers, rows = on_database(db_url, body)
    assert len(fake_llm.calls(ids[0])) == 2
    assert not any(a.cached for a in answers)
    assert rows == []


def test_the_first_answer_kept_wins(db_url):
    async def body() -> tuple[LlmReply | None, LlmReply | None]:
        cache = PgAnswerCache()
        await cache.put("k" * 64, LlmReply("first", 10, 3, 0.01, 5.0, model="m"))
        await cache.put("k" * 64, LlmReply("second", 11, 4, 0.01, 5.0, model="m"))
        return await cache.get("k" * 64), await cache.get("x" * 64)

    kept, missing = on_database(db_url, body)
    assert missing is None
    assert kept is not None
    assert (kept.text, kept.prompt_tokens, kept.completion_tokens, kept.model) == (
        "first",
        10,
        3,
        "m",
    )


def test_llm_cache_false_turns_it_off():
    assert answer_cache(Settings(LLM_CACHE=False)) is None
    assert isinstance(answer_cache(Settings(LLM_CACHE=True)), PgAnswerCache)
