"""What the benchmarks run against: an embedded PostgreSQL, the scripted fake LLM in its own
process, and the API under gunicorn with the production settings (gunicorn.conf.py), all
started by devstack/ (the launcher the tests and scripts use too)."""

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.data import TARGETS
from devstack.api import ROOT, TERMINAL, ApiProcess, api_env, start_body
from devstack.database import create_database, start_postgres
from devstack.fakellm import FakeLlmProcess
from devstack.process import wait_until
from devstack.worker import WorkerProcess

__all__ = ["ROOT", "MemoryWatch", "Stack", "cpu_seconds"]
DATABASE = "bench"
ADMIN = ("bench-admin", "bench-admin-password")


@dataclass
class MemoryWatch:
    """Samples the RSS of a process tree in a thread: peak per process and of the whole tree."""

    root_pid: int
    interval: float = 0.1
    peak_process: int = 0
    peak_tree: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            total = 0
            for process in self._tree():
                with contextlib.suppress(psutil.Error):
                    rss = process.memory_info().rss
                    total += rss
                    self.peak_process = max(self.peak_process, rss)
            self.peak_tree = max(self.peak_tree, total)
            self.samples.append((time.monotonic() - started, total))
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemoryWatch":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)


def bench_body(test: str, reference: str, **extra: Any) -> dict[str, Any]:
    """The tests' start request, on the MPEA targets with every slot open."""
    defaults = {"task_name": "bench", "target_properties": TARGETS, "max_workers": 20}
    return start_body(test, reference, **{**defaults, **extra})


def task_seconds(task: dict[str, Any]) -> float:
    """From a task's start to its end, as the API reports them."""
    started = datetime.fromisoformat(task["started_at"])
    completed = datetime.fromisoformat(task["completed_at"])
    return (completed - started).total_seconds()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (alive ones)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


class Stack:
    """Start with `with Stack() as stack:`; everything it started is stopped on exit."""

    def __init__(self, workers: int = 2, keep: bool = False) -> None:
        self.workers = workers
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="bench-"))
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir()
        self.pg: Any = None
        self.db_url = ""
        self.fake = FakeLlmProcess(self.dir / "fake.log")
        self.api: ApiProcess | None = None
        self.workers_running: list[WorkerProcess] = []
        self.worker_logs: list[Path] = []
        self.http = httpx.Client(timeout=120)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        try:
            self.pg = start_postgres(self.dir / "pg")
            self.db_url = create_database(self.pg, DATABASE)
            self.fake.start()
            self.start_api()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop_workers()
        self.http.close()
        if self.api is not None:
            self.api.stop()
        self.fake.stop()
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.cleanup()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def api_env(self, **extra: str) -> dict[str, str]:
        """Production settings (accounts on, a SECRET_KEY); rate limits raised for the bench's
        many starts and uploads from one account."""
        return api_env(
            self.db_url,
            self.data_dir,
            self.fake.url,
            ENVIRONMENT="production",
            SECRET_KEY="bench-secret-key-" + "x" * 32,
            ADMIN_USERNAME=ADMIN[0],
            ADMIN_PASSWORD=ADMIN[1],
            START_RATE_LIMIT="100000",
            UPLOAD_RATE_LIMIT="100000",
            LLM_TIMEOUT_SECONDS="30",
            RETRY_BACKOFF_FACTOR="0.05",
            WORKER_STALLED_SECONDS="6",
            # Scenarios repeat identical calls at temperature 0: the answer cache would answer
            # them without the latencies the scheduling bars are about.
            LLM_CACHE="false",
            **extra,
        )

    def start_api(self, **extra: str) -> None:
        """The API under gunicorn with gunicorn.conf.py; `extra` adds to its environment. Every
        request of the bench carries an API token of the first admin (a bearer token)."""
        self.api = ApiProcess(
            self.api_env(**extra), self.dir, server="gunicorn", workers=self.workers
        ).start(300)
        self.http.base_url = httpx.URL(self.api.base_url)
        if "authorization" not in self.http.headers:
            self.http.headers["authorization"] = f"Bearer {self._api_token()}"

    def _api_token(self) -> str:
        login = self.http.post("/api/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        login.raise_for_status()
        session = {"authorization": f"Bearer {login.json()['access_token']}"}
        created = self.http.post("/api/auth/tokens", json={"name": "bench"}, headers=session)
        created.raise_for_status()
        return created.json()["token"]

    # -- separate worker processes (`python -m backend.worker`) -------------------------------

    def use_workers(self, count: int, **extra: str) -> list[WorkerProcess]:
        """Restart the API without its embedded workers and start `count` worker processes
        with the same settings (plus `extra`); the previous ones are stopped."""
        self._restart_api(EMBEDDED_WORKER="false", **extra)
        env = self.api_env(EMBEDDED_WORKER="false", **extra)
        self.workers_running = [
            WorkerProcess(env, self.dir, name=f"worker-{len(self.worker_logs) + n}").start()
            for n in range(count)
        ]
        self.worker_logs += [w.log_path for w in self.workers_running]
        return self.workers_running

    def stop_workers(self) -> None:
        for worker in self.workers_running:
            worker.stop()
        self.workers_running = []

    def use_embedded(self) -> None:
        """Back to the API's embedded worker (the other scenarios' setup)."""
        self._restart_api()

    def _restart_api(self, **extra: str) -> None:
        """Worker processes stopped, the API restarted with `extra` in its environment."""
        self.stop_workers()
        assert self.api is not None
        self.api.stop()
        self.api = None
        self.start_api(**extra)

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": self.http.headers["authorization"]}

    @property
    def api_pid(self) -> int:
        assert self.api is not None
        return self.api.pid

    # -- fake LLM ----------------------------------------------------------------------------

    def script(self, default: dict[str, Any], samples: dict[str, Any] | None = None) -> None:
        self.fake.script(default, samples)

    def calls(self) -> list[dict[str, Any]]:
        return self.fake.calls()

    # -- API ---------------------------------------------------------------------------------

    def upload(self, name: str, text: str) -> str:
        response = self.http.post("/api/datasets", files={"file": (name, text.encode())})
        response.raise_for_status()
        return response.json()["path"]

    def start(self, **body: Any) -> int:
        response = self.http.post("/api/iterative-prediction/start", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"start failed: {response.status_code} {response.text}")
        return response.json()["task_id"]

    def task(self, task_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/tasks/{task_id}")
        response.raise_for_status()
        return response.json()

    def wait(self, task_id: int, timeout: float) -> dict[str, Any]:
        return wait_until(
            lambda: (t := self.task(task_id))["status"] in TERMINAL and t, timeout, 0.05
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """A SQLAlchemy session on the bench database (for direct inserts)."""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        engine = create_engine(self.db_url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()
