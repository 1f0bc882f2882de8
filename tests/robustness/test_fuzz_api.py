"""Schemathesis against the running app's own OpenAPI schema: whatever a client sends, the API
answers without a 5xx, and every answer matches the schema it documents for that status.

Bounded for CI: FUZZ_EXAMPLES cases per operation (default 25, about 300 in all), derandomized
so a failure reproduces. Schemathesis's pytest plugin (`from_fixture`) does not work with
pytest 9, so the operations are driven through Hypothesis directly."""

import os
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import ApiClient, reference_table, sample_table

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def fuzz_operation(operation: Any, failures: list[str], counter: list[int]) -> None:
    """Up to EXAMPLES cases of one operation; bad answers are appended to `failures`."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        counter[0] += 1
        response = case.call(timeout=30)
        body = "" if isinstance(case.body, NotSet) else f" body={case.body!r:.200}"
        where = f"{case.method} {case.formatted_path} query={case.query or {}}{body}"
        # API.md: a provider this server has no key for is 503 LLM_API_ERROR, by design.
        unavailable = response.status_code == 503 and "LLM_API_ERROR" in response.text
        if response.status_code >= 500 and not unavailable:
            failures.append(
                f"[{operation.label} {response.status_code}] {where}: {response.text[:200]}"
            )
            return
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except Exception as exc:  # a schema violation: record it, keep fuzzing the others
            first = str(exc).strip().splitlines()[:6]
            failures.append(
                f"[{operation.label} {response.status_code} schema] {where}: {' | '.join(first)}"
            )

    run()


def test_api_answers_conform_to_its_schema(live_api: Any) -> None:
    # Something real to hit: two datasets and a finished baseline task.
    with ApiClient(live_api.base_url, live_api.data_dir) as api:
        task_id = api.start(sample_table(["F1", "F2"]), reference_table(), llm_provider="baseline")
        api.wait(task_id, timeout=60)
    schema = schemathesis.openapi.from_url(f"{live_api.base_url}/openapi.json")
    failures: list[str] = []
    counter = [0]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost operations"
    for operation in operations:
        fuzz_operation(operation, failures, counter)
    print(f"fuzzed {len(operations)} operations with {counter[0]} cases")
    kinds = Counter(f[1 : f.index("]")] for f in failures)
    summary = "\n".join(f"  {n} × {kind}" for kind, n in kinds.most_common())
    examples = "\n".join(next(f for f in failures if f[1:].startswith(k)) for k in kinds)
    assert not failures, f"{len(failures)} bad answers:\n{summary}\nfirst of each:\n{examples}"
