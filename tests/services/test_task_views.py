"""The task object's `usage` (from the task's counters) and `queue_position` (pending tasks by
priority, then start order), through the status endpoint's one statement and the writers' path."""

from typing import Any

import orjson

from backend.db.session import unit_of_work
from backend.services.task_views import page_json, task_json, view_task
from tests.helpers import add_task, on_database


async def view(task_id: int) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(await task_json(task_id, None))
    with unit_of_work() as session:  # the writers' path answers the same object
        assert orjson.loads(orjson.dumps(view_task(session, task_id), default=str)).keys() == (
            document.keys()
        )
        assert view_task(session, task_id)["usage"] == document["usage"]
        assert view_task(session, task_id)["queue_position"] == document["queue_position"]
    return document


def test_usage_comes_from_the_task_counters(db_url):
    async def body() -> dict[str, dict[str, Any]]:
        counters: dict[str, Any] = {"prompt_tokens": 1200, "completion_tokens": 90}
        ids = {
            "priced": add_task(
                "completed", llm_calls=4, cache_hits=2, spent_usd=0.0123, **counters
            ),
            "unpriced": add_task("completed", llm_calls=4, cache_hits=1, **counters),
            "all_cached": add_task("completed", llm_calls=0, cache_hits=3, **counters),
            "baseline": add_task("completed", provider="baseline"),
        }
        return {name: (await view(i))["usage"] for name, i in ids.items()}

    usage = on_database(db_url, body)
    assert usage["priced"] == {
        "llm_calls": 4,
        "cache_hits": 2,
        "prompt_tokens": 1200,
        "completion_tokens": 90,
        "cost_usd": 0.0123,
    }
    assert usage["unpriced"]["cost_usd"] is None  # calls made, no price known: not 0
    assert usage["unpriced"]["llm_calls"] == 4 and usage["unpriced"]["cache_hits"] == 1
    assert usage["all_cached"]["cost_usd"] == 0.0  # nothing was sent, nothing is owed
    assert usage["baseline"] == {
        "llm_calls": 0,
        "cache_hits": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
    }


def test_queue_position_orders_pending_tasks_by_priority_then_start(db_url):
    async def body() -> tuple[dict[str, Any], dict[int, Any], dict[str, int]]:
        ids = {
            "low_first": add_task(priority=0),
            "running": add_task("running", priority=100),
            "high": add_task(priority=5),
            "low_second": add_task(priority=0),
            "done": add_task("completed", priority=50),
            "negative": add_task(priority=-3),
            "higher_later": add_task(priority=9),
        }
        positions = {name: (await view(i))["queue_position"] for name, i in ids.items()}
        page = orjson.loads(await page_json(50, 0, None))
        return positions, {t["task_id"]: t["queue_position"] for t in page["items"]}, ids

    positions, listed, ids = on_database(db_url, body)
    assert positions == {
        "higher_later": 1,
        "high": 2,
        "low_first": 3,
        "low_second": 4,
        "negative": 5,
        "running": None,
        "done": None,
    }
    assert listed == {ids[name]: position for name, position in positions.items()}
