"""The iteration history in pages (limit/offset over samples) and as changes since a cursor."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from devstack.fakellm import FakeLlm
from tests.helpers import (
    ApiClient,
    LiveServer,
    api_env,
    fresh_database,
    reference_table,
    sample_table,
    unique_ids,
)

MAX_UNPAGED = 4


@pytest.fixture(scope="module")
def api(pg, template_db, fake_llm, tmp_path_factory) -> Iterator[ApiClient]:
    data_dir = tmp_path_factory.mktemp("history-pages")
    env = api_env(
        fresh_database(pg, template_db),
        data_dir,
        fake_llm,
        HISTORY_MAX_UNPAGED_SAMPLES=str(MAX_UNPAGED),
    )
    server = LiveServer(env, data_dir).start()
    with ApiClient(server.base_url) as client:
        yield client
    server.stop()


def run(api: ApiClient, fake_llm: FakeLlm, n: int) -> int:
    ids = unique_ids(n)
    fake_llm.script({sid: {"converge_after": 1 + i % 2} for i, sid in enumerate(ids)})
    task_id = api.start(sample_table(ids), reference_table(), max_iterations=3)
    assert api.wait(task_id)["status"] == "completed"
    return task_id


def test_pages_follow_sample_order_and_say_where_they_are(api: ApiClient, fake_llm: FakeLlm):
    task_id = run(api, fake_llm, MAX_UNPAGED)
    whole = api.history(task_id)
    assert "page" not in whole
    assert list(whole["samples"]) == [f"sample_{i}" for i in range(MAX_UNPAGED)]

    page = api.history(task_id, limit=2, offset=1)
    assert page["page"] == {"limit": 2, "offset": 1, "total": MAX_UNPAGED}
    assert list(page["samples"]) == ["sample_1", "sample_2"]
    assert page["samples"]["sample_2"] == whole["samples"]["sample_2"]
    # Per-round summaries and the task's counters describe the whole task on every page.
    assert page["iteration_summaries"] == whole["iteration_summaries"]
    assert page["global_info"] == whole["global_info"]
    past_the_end = api.history(task_id, limit=2, offset=10)
    assert past_the_end["samples"] == {}
    assert past_the_end["page"]["total"] == MAX_UNPAGED


def test_a_large_task_needs_a_page(api: ApiClient, fake_llm: FakeLlm):
    task_id = run(api, fake_llm, MAX_UNPAGED + 1)
    refused = api.get(f"/api/results/{task_id}/iterations")
    assert refused.status_code == 400
    assert refused.json()["error"] == "PAGE_REQUIRED"
    assert "limit" in refused.json()["details"]
    assert len(api.history(task_id, limit=MAX_UNPAGED)["samples"]) == MAX_UNPAGED
    assert list(api.history(task_id, sample_index=MAX_UNPAGED)["samples"]) == [
        f"sample_{MAX_UNPAGED}"
    ]
    # A page is never larger than the setting.
    assert api.history(task_id, limit=1000)["page"]["limit"] == MAX_UNPAGED
    for bad in ({"limit": 0}, {"offset": -1}, {"since": "yesterday"}):
        answer = api.get(f"/api/results/{task_id}/iterations", params=bad)
        assert answer.status_code == 422, bad


def test_since_a_cursor_only_what_changed_is_sent(api: ApiClient, fake_llm: FakeLlm):
    first = run(api, fake_llm, 2)
    cursor = api.history(first)["cursor"]
    second = run(api, fake_llm, 3)
    # Everything of the second task was stored after the first task's cursor.
    changed = api.history(second, since=cursor)
    assert list(changed["samples"]) == ["sample_0", "sample_1", "sample_2"]
    assert changed["samples"] == api.history(second)["samples"]
    # Nothing was stored after the second task's own latest cursor (a cursor from the future
    # stands in for "a while later": answers look back a few seconds, so near ones repeat).
    cursor = datetime.fromisoformat(api.history(second)["cursor"])
    later = (cursor + timedelta(hours=1)).isoformat()
    quiet = api.history(second, since=later)
    assert quiet["samples"] == {}
    assert quiet["global_info"]["total_samples"] == 3
    assert [s["iteration"] for s in quiet["iteration_summaries"]] == [1, 2, 3]
