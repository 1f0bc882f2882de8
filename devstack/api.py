"""The one launcher of the API process, for tests, benchmarks and scripts.

server = ApiProcess(api_env(db_url, data_dir, llm_api_base), data_dir)            # uvicorn
server = ApiProcess(env, data_dir, server="gunicorn", workers=2)   # production settings
server.start(); ...; server.stop()
"""

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, Self

import httpx
import psutil

from backend.core.vocabulary import TERMINAL_TASK_STATUSES
from devstack.process import ROOT, free_port, stop, wait_until

__all__ = ["ROOT", "TERMINAL", "ApiProcess", "api_env", "start_body"]

TERMINAL = set(TERMINAL_TASK_STATUSES)


def api_env(
    database_url: str | None, data_dir: Path, llm_api_base: str | None = None, **extra: str
) -> dict[str, str]:
    """The API's environment for a throw-away stack: fast retries, no frontend, no real keys."""
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "RETRY_MAX_ATTEMPTS": "3",
        "RETRY_BACKOFF_FACTOR": "0.01",
        "LLM_TIMEOUT_SECONDS": "1.5",
        # A killed worker's batches are requeued after this (the minimum), not the default 30 s.
        "WORKER_STALLED_SECONDS": "3",
        "FRONTEND_DIR": str(data_dir / "no-frontend"),
        "LOG_LEVEL": "INFO",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **extra,
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if llm_api_base:
        env["LLM_API_BASE"] = llm_api_base
    for secret in ("OPENAI_API_KEY", "GEMINI_API_KEY"):
        env.pop(secret, None)
    return env


class ApiProcess:
    """`uvicorn backend.main:app`, or gunicorn with gunicorn.conf.py (the production settings),
    in a child process on a free port; killable and restartable."""

    def __init__(
        self,
        env: dict[str, str],
        data_dir: Path,
        server: Literal["uvicorn", "gunicorn"] = "uvicorn",
        workers: int = 2,
    ) -> None:
        self.env = env
        self.data_dir = data_dir
        self.server = server
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"api-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        if self.server == "gunicorn":
            return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.main:app"]
        return [sys.executable, "-m", "uvicorn", "backend.main:app", "--port", str(self.port)]

    def start(self, timeout: float = 90.0) -> Self:
        env = dict(self.env)
        if self.server == "gunicorn":
            env |= {
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(self.workers),
            }
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it while it lives
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_until(self._ready, timeout, interval=0.1)
        return self

    def _ready(self) -> bool:
        assert self.process
        if self.process.poll() is not None:
            raise RuntimeError(f"the API exited; log:\n{self.log()[-4000:]}")
        try:
            if httpx.get(f"{self.base_url}/api/health", timeout=2).status_code != 200:
                return False
        except httpx.HTTPError:
            return False
        if self.server == "gunicorn":  # every worker has started (each imports the app itself)
            return len(psutil.Process(self.process.pid).children()) >= self.workers
        return True

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=30, **kw)

    def kill(self) -> None:
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM; the exit code (None if it had to be killed after `timeout`)."""
        return stop(self.process, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_body(test_path: str, reference_path: str, **config: Any) -> dict[str, Any]:
    """A valid start request on two stored datasets; `config` overrides any field."""
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
