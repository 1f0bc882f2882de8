"""Test helpers: a live API process, a client for it, and small CSV tables."""

import csv
import io
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from backend.core.vocabulary import TERMINAL_TASK_STATUSES

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = set(TERMINAL_TASK_STATUSES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


class LiveServer:
    """`uvicorn backend.main:app` in a child process; killable, restartable."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"api-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it while it lives
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.main:app", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def healthy() -> bool:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"API exited; log:\n{self.log_path.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.base_url}/api/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout, interval=0.1)

    def kill(self) -> None:
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text()


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


def start_body(test_path: str, reference_path: str, **config: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task_name": "test task",
        "test_file_path": test_path,
        "reference_file_path": reference_path,
        "target_properties": ["UTS", "El"],
        "llm_provider": "openai",
        "llm_model": "fake-model",
        "temperature": 0.0,
        "enable_iteration": True,
        "max_iterations": 5,
        "convergence_threshold": 0.01,
        "early_stop": True,
        "max_workers": 5,
    }
    body.update(config)
    return body


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def reference_table(n: int = 12) -> str:
    """Known alloys: two numeric inputs, one category, targets UTS and El."""
    return to_csv(
        [
            {
                "ID": f"R{i}",
                "Fe": 10.0 + 5 * i,
                "Ni": 50.0 - 3 * i,
                "Processing": "CAST" if i % 2 else "WROUGHT",
                "UTS": 500.0 + 40 * i,
                "El": 10.0 + i,
            }
            for i in range(n)
        ]
    )


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
