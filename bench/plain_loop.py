"""The orchestration's reference: a plain asyncio loop asking the same fake LLM, through litellm
with the service's call arguments, for the same samples × rounds at the same concurrency, and
nothing else (no database, no graph, no retries, no stored rounds). Each sample's rounds run in
order, as the service runs them. The prompts are rendered before the clock starts.

Run in its own process, as a worker is: `python -m bench.plain_loop URL SAMPLES ROUNDS SLOTS`;
prints one line `JSON {"calls": ..., "wall_s": ..., "cpu_s": ...}`."""

import asyncio
import io
import json
import sys
import time
from typing import Any

import litellm
import pandas as pd

from backend.workflow.prompts import render_prompt
from backend.workflow.task_data import prepare
from bench.data import TARGETS, reference_csv, synthetic_test_csv

litellm.telemetry = False  # as the service sets it (the bench sets the local price map)
litellm.suppress_debug_info = True


def prompts(samples: int, rounds: int) -> list[list[str]]:
    """The service's own prompts for `samples` synthetic alloys, round 1 to `rounds`."""
    data = prepare(
        pd.read_csv(io.StringIO(synthetic_test_csv(samples, "plain", seed=5))),
        pd.read_csv(io.StringIO(reference_csv())),
        list(TARGETS),
    )
    return [
        [
            render_prompt(
                data, i, [dict.fromkeys(TARGETS, 100.0)] * r, max_rounds=rounds, threshold=0.01
            )
            for r in range(rounds)
        ]
        for i in range(samples)
    ]


async def ask(url: str, prompt: str) -> dict[str, Any]:
    response = await litellm.acompletion(
        model="openai/bench",
        messages=[{"role": "user", "content": prompt}],
        temperature=0.0,
        api_base=url,
        api_key="none",
        timeout=30,
        num_retries=0,
        max_retries=0,
    )
    answer: dict[str, Any] = json.loads(response.choices[0].message.content or "{}")
    return answer


async def run(url: str, texts: list[list[str]], slots: int) -> int:
    gate = asyncio.Semaphore(slots)
    calls = 0

    async def sample(rounds: list[str]) -> None:
        nonlocal calls
        for prompt in rounds:
            async with gate:
                await ask(url, prompt)
            calls += 1

    await asyncio.gather(*(sample(rounds) for rounds in texts))
    return calls


async def measured(url: str, texts: list[list[str]], slots: int) -> dict[str, float]:
    await run(url, texts[:slots], slots)  # warm-up: imports, the client's connections
    wall, cpu = time.perf_counter(), time.process_time()
    calls = await run(url, texts, slots)
    return {
        "calls": calls,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
    }


def main() -> None:
    url, samples, rounds, slots = sys.argv[1], *map(int, sys.argv[2:5])
    result = asyncio.run(measured(url, prompts(samples, rounds), slots))
    print("JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
