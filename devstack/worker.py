"""A `python -m backend.worker` process with the API's environment (see devstack.api)."""

import signal
import subprocess
import sys
from pathlib import Path
from typing import Self

from devstack.process import ROOT, stop, wait_until


class WorkerProcess:
    def __init__(self, env: dict[str, str], data_dir: Path, name: str = "worker") -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"{name}.log"

    def start(self, timeout: float = 60.0) -> Self:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it while it lives
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend.worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, timeout, interval=0.1)
        return self

    def _ready(self) -> bool:
        assert self.process
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited; log:\n{self.log()[-4000:]}")
        return "worker ready" in self.log()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> int | None:
        return stop(self.process, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
