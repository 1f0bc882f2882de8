"""Test helpers: a client for a live API, and small CSV tables. The launcher itself (API
process, fake LLM, ports, waiting) lives in devstack/, shared with the benchmarks and scripts."""

import asyncio
import csv
import io
import itertools
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import pandas as pd
import psycopg

from backend.core import task_dump
from backend.core.config import Settings
from backend.db.models import Task
from backend.db.session import (
    close_read_pool,
    dispose_engine,
    init_engine,
    open_read_pool,
    unit_of_work,
)
from backend.workflow.predictors import LlmPredictor
from backend.workflow.task_data import TaskData, prepare
from devstack import api as devstack_api
from devstack.api import ROOT, TERMINAL, start_body
from devstack.api import ApiProcess as LiveServer
from devstack.database import create_database
from devstack.process import free_port, wait_until

T = TypeVar("T")

__all__ = ["ROOT", "TERMINAL", "LiveServer", "free_port", "start_body", "wait_until"]


class ApiClient:
    def __init__(self, base_url: str, data_dir: Path | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.data_dir = data_dir

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def upload(self, text: str, name: str = "data.csv") -> str:
        response = self.http.post(
            "/api/datasets", files={"file": (name, text.encode(), "text/csv")}
        )
        assert response.status_code == 201, response.text
        return response.json()["path"]

    def start(self, test_csv: str, reference_csv: str, **config: Any) -> int:
        body = start_body(self.upload(test_csv), self.upload(reference_csv), **config)
        response = self.http.post("/api/iterative-prediction/start", json=body)
        assert response.status_code == 200, response.text
        return response.json()["task_id"]

    def task(self, task_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/tasks/{task_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, task_id: int, timeout: float = 60.0) -> dict[str, Any]:
        return wait_until(
            lambda: (t := self.task(task_id))["status"] in TERMINAL and t, timeout, interval=0.1
        )

    def history(self, task_id: int, **params: Any) -> dict[str, Any]:
        response = self.http.get(f"/api/results/{task_id}/iterations", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def task_count(self) -> int:
        return self.http.get("/api/tasks", params={"limit": 1}).json()["total"]


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def reference_rows(n: int = 12, prefix: str = "R") -> list[dict[str, Any]]:
    """Known alloys: two numeric inputs, one category, targets UTS and El."""
    return [
        {
            "ID": f"{prefix}{i}",
            "Fe": 10.0 + 5 * i,
            "Ni": 50.0 - 3 * i,
            "Processing": "CAST" if i % 2 else "WROUGHT",
            "UTS": 500.0 + 40 * i,
            "El": 10.0 + i,
        }
        for i in range(n)
    ]


def reference_table(n: int = 12) -> str:
    return to_csv(reference_rows(n))


def sample_table(ids: list[str], truth: bool = False) -> str:
    rows = []
    for i, sample_id in enumerate(ids):
        row: dict[str, Any] = {
            "ID": sample_id,
            "Fe": 12.0 + 7 * i,
            "Ni": 48.0 - 2 * i,
            "Processing": "CAST",
        }
        if truth:
            row |= {"UTS": 777.0 + i, "El": 17.0}
        rows.append(row)
    return to_csv(rows)


def unique_ids(n: int, prefix: str = "S") -> list[str]:
    """Sample ids unique to one test, so the shared fake LLM's scripts never collide."""
    tag = uuid.uuid4().hex[:6]
    return [f"{prefix}{tag}-{i}" for i in range(n)]


def task_data(ids: list[str], targets: tuple[str, ...] = ("UTS", "El")) -> TaskData:
    """A TaskData of `sample_table(ids)` against `reference_table()`, for predictors in process."""
    return prepare(
        pd.read_csv(io.StringIO(sample_table(ids))),
        pd.read_csv(io.StringIO(reference_table())),
        list(targets),
    )


def on_database(db_url: str, body: Callable[[], Awaitable[T]]) -> T:
    """Run `body` in a fresh event loop with the engine and the async read pool on `db_url`
    (as the app has them), closed afterwards."""

    async def go() -> T:
        init_engine(Settings(DATABASE_URL=db_url))
        await open_read_pool()
        try:
            return await body()
        finally:
            await close_read_pool()
            dispose_engine()

    return asyncio.run(go())


def overlapping_asks(calls: list[Any]) -> list[tuple[str, int]]:
    """(sample, round) pairs asked again while an earlier ask was still open at the fake LLM:
    two workers calling for one round at once. Asking again after a lost answer is not one."""
    by_round: dict[tuple[str, int], list[Any]] = {}
    for call in calls:
        by_round.setdefault((call.sample_id, call.round), []).append(call)
    overlapping = []
    for key, asks in by_round.items():
        asks.sort(key=lambda c: c.started)
        if any(b.started < (a.ended or float("inf")) for a, b in itertools.pairwise(asks)):
            overlapping.append(key)
    return overlapping


def stored_rounds(api: "ApiClient", task_id: int) -> set[tuple[str, int]]:
    """(sample_id, round) of every round stored so far."""
    response = api.get(f"/api/results/{task_id}/iterations")
    if response.status_code != 200:
        return set()
    return {
        (s["sample_id"], n + 1)
        for s in response.json()["samples"].values()
        for n in range(len(s["targets"]["UTS"]["iterations"]))
    }


def fresh_database(pg: Any, template: str | None) -> str:
    """A new database on the test server: a copy of `template` (e.g. the migrated one)."""
    return create_database(pg, f"t_{uuid.uuid4().hex[:12]}", template, migrate=False)


def api_env(db: str, data_dir: Path, fake: Any, **extra: str) -> dict[str, str]:
    """The API's environment for a test stack on `db`, calling the fake LLM `fake`."""
    return devstack_api.api_env(db, data_dir, fake.url, **extra)


def fake_llm_predictor(
    fake: Any, ids: list[str], temperature: float = 0.0, data: TaskData | None = None, **kw: Any
) -> LlmPredictor:
    """An LlmPredictor on `ids` calling the fake LLM, with fast retries; `kw` adds gates or a
    cache."""
    settings = Settings(LLM_API_BASE=fake.url, RETRY_BACKOFF_FACTOR=0, RETRY_MAX_WAIT_SECONDS=0.05)
    return LlmPredictor(
        data or task_data(ids),
        settings,
        provider="openai",
        model="fake-model",
        temperature=temperature,
        max_rounds=3,
        threshold=0.01,
        **kw,
    )


class Logged(Protocol):
    """An API or worker process of devstack."""

    @property
    def pid(self) -> int: ...

    def log(self) -> str: ...


def asyncio_tasks(*processes: Logged) -> str:
    """Where each process's asyncio tasks wait (SIGUSR2, backend/core/task_dump.py): for the
    message of a test that timed out on something stuck."""
    marker = '"message": "asyncio tasks"'
    found = []
    for process in processes:
        seen = process.log().count(marker)

        def answered(process: Logged = process, seen: int = seen) -> bool:
            return process.log().count(marker) > seen

        os.kill(process.pid, task_dump.SIGNAL)
        try:
            wait_until(answered, timeout=10)
        except TimeoutError:
            found.append(f"process {process.pid}: no answer to SIGUSR2")
            continue
        line = [line for line in process.log().splitlines() if marker in line][-1]
        found.append(f"process {process.pid}:\n{json.loads(line)['stacks']}")
    return "\n".join(found)


def query(env: dict[str, str], sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the database of a stack started with `env` (its DATABASE_URL)."""
    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


def task_row(**kw: Any) -> Task:
    """A Task with every required column set (any of them overridden by `kw`), not stored."""
    provider = kw.get("llm_provider", "openai")
    defaults: dict[str, Any] = {
        "name": "t",
        "status": "pending",
        "llm_provider": provider,
        "llm_model": "knn" if provider == "baseline" else "m",
        "temperature": 0.0,
        "max_iterations": 3,
        "convergence_threshold": 0.01,
        "early_stop": True,
        "max_workers": 2,
        "target_properties": ["UTS"],
        "config": {},
        "total_samples": 0,
    }
    return Task(**{**defaults, **kw})


def add_task(
    status: str = "pending", priority: int = 0, provider: str = "openai", **kw: Any
) -> int:
    """A task row stored directly (no samples), for the task views' tests."""
    with unit_of_work() as session:
        task = task_row(status=status, llm_provider=provider, priority=priority, **kw)
        session.add(task)
        session.flush()
        return task.id
