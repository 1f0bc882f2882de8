"""`GET /api/tasks/{id}` judged against a reference measured in the same run.

The reference (bench/floor.py) is a bare ASGI app doing the same primary-key read with psycopg,
under the same gunicorn configuration with one worker, like the API process it is compared to.
The two are loaded in turn by wrk (a C client: little of the 2 cores goes to the client), so
their ratio holds whatever else the machine does; each pair is repeated and min / median / max
reported."""

import json
import os
import shutil
import statistics
import subprocess
import sys
from typing import Any

import httpx
import psutil

from bench.stack import ROOT, Stack, cpu_seconds
from devstack.api import ApiProcess
from devstack.process import free_port, stop, wait_until

SCRIPT = ROOT / "bench" / "status.lua"


def wrk(
    base_url: str,
    ids: tuple[int, int],
    auth: str | None,
    seconds: float,
    connections: int,
    pace_ms: int = 0,
) -> dict[str, Any]:
    """One wrk run over random task ids; requests, req/s and latency percentiles (ms)."""
    env = {
        **os.environ,
        "IDS_FIRST": str(ids[0]),
        "IDS_LAST": str(ids[1]),
        "AUTH": auth or "",
        "PACE_MS": str(pace_ms),
    }
    duration = f"-d{max(1, round(seconds))}s"  # wrk takes whole seconds only
    command = ["wrk", "-t2", f"-c{connections}", duration, "-s", str(SCRIPT), base_url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("JSON ")]
    if not lines:
        raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(lines[0][5:])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def floor_process(stack: Stack) -> ApiProcess:
    env = {**stack.api_env(), "FLOOR_DATABASE_URL": stack.db_url}
    floor = ApiProcess(env, stack.dir, server="gunicorn", workers=1)
    floor.command = lambda: [  # type: ignore[method-assign]
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "bench.floor:app",
    ]
    return floor


def _worker_pid(process: ApiProcess) -> int:
    return psutil.Process(process.pid).children()[0].pid


def one_process_vs_floor(
    stack: Stack, ids: tuple[int, int], repeats: int, seconds: float
) -> dict[str, Any]:
    """Closed loop, 32 connections: one API worker (production settings, a bearer token) and
    the floor, alternately, `repeats` times."""
    api = ApiProcess(stack.api_env(), stack.dir, server="gunicorn", workers=1).start(300)
    floor = floor_process(stack).start(300)
    auth = stack.headers["authorization"]
    runs: list[dict[str, Any]] = []
    try:
        api_worker, floor_worker = _worker_pid(api), _worker_pid(floor)
        wrk(api.base_url, ids, auth, 2, 32)  # warm-up: imports, prepared statements, pools
        wrk(floor.base_url, ids, None, 2, 32)
        for _ in range(repeats):
            cpu = cpu_seconds(api_worker)
            a = wrk(api.base_url, ids, auth, seconds, 32)
            a["cpu_ms_per_request"] = (cpu_seconds(api_worker) - cpu) / a["requests"] * 1000
            cpu = cpu_seconds(floor_worker)
            f = wrk(floor.base_url, ids, None, seconds, 32)
            f["cpu_ms_per_request"] = (cpu_seconds(floor_worker) - cpu) / f["requests"] * 1000
            runs.append({"api": a, "floor": f, "ratio": a["rps"] / f["rps"]})
    finally:
        api.stop()
        floor.stop()
    return {
        "runs": runs,
        "ratio": spread([r["ratio"] for r in runs]),
        "api_rps": spread([r["api"]["rps"] for r in runs]),
        "floor_rps": spread([r["floor"]["rps"] for r in runs]),
        "api_cpu_ms": spread([r["api"]["cpu_ms_per_request"] for r in runs]),
        "floor_cpu_ms": spread([r["floor"]["cpu_ms_per_request"] for r in runs]),
        "errors": sum(r["api"]["non_2xx"] + r["api"]["socket_errors"] for r in runs),
    }


def deployment_under_load(
    stack: Stack, ids: tuple[int, int], repeats: int, seconds: float
) -> dict[str, Any]:
    """The 2-worker deployment while a task runs: 100 pollers each asking about once a second
    (wrk with a randomised 0.5–1.5 s pause per connection), then the closed loop."""
    auth = stack.headers["authorization"]
    paced, closed = [], []
    for _ in range(repeats):
        paced.append(wrk(stack.api.base_url, ids, auth, seconds, 100, pace_ms=1000))  # type: ignore[union-attr]
        closed.append(wrk(stack.api.base_url, ids, auth, seconds / 2, 32))  # type: ignore[union-attr]
    return {
        "paced": paced,
        "closed": closed,
        "p95_ms": spread([p["p95_ms"] for p in paced]),
        "p99_ms": spread([p["p99_ms"] for p in paced]),
        "paced_rps": spread([p["rps"] for p in paced]),
        "closed_rps": spread([c["rps"] for c in closed]),
        "closed_p95_ms": spread([c["p95_ms"] for c in closed]),
        "errors": sum(p["non_2xx"] + p["socket_errors"] for p in paced + closed),
    }


def instructions_per_request(
    stack: Stack, ids: tuple[int, int], app: str, requests: int
) -> float | None:
    """CPU instructions one `GET /api/tasks/{id}` costs the server process, counted by valgrind
    (callgrind, collection switched on only around the measured requests): the same on a busy
    machine as on a quiet one. None where valgrind is missing. `app` is an ASGI app path, run
    under uvicorn without an access log (what is counted is the application's own work)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        return None
    port = free_port()
    out = stack.dir / f"callgrind-{app.replace(':', '-')}.out"
    env = {**stack.api_env(), "FLOOR_DATABASE_URL": stack.db_url}
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={out}", sys.executable, "-m", "uvicorn", app]
    command += ["--port", str(port), "--no-access-log"]
    log = open(stack.dir / f"{out.name}.log", "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    headers = stack.headers
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as c:

            def up() -> bool:
                try:
                    return c.get("/api/health", timeout=5).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(up, 1800, 1.0)  # a Python app starts slowly under valgrind
            paths = [f"/api/tasks/{ids[0] + k % (ids[1] - ids[0] + 1)}" for k in range(requests)]
            for path in paths[:20]:  # warm: imports, prepared statements, pools
                c.get(path).raise_for_status()
            control = ["callgrind_control"]
            subprocess.run(
                [*control, "-i", "on", str(process.pid)], check=True, capture_output=True
            )
            for path in paths:
                c.get(path).raise_for_status()
            subprocess.run(
                [*control, "-i", "off", str(process.pid)], check=True, capture_output=True
            )
            subprocess.run([*control, "-d", str(process.pid)], check=True, capture_output=True)
    finally:
        stop(process, 120)
    totals = [
        int(line.split()[1])
        for dump in out.parent.glob(out.name + "*")
        for line in dump.read_text().splitlines()
        if line.startswith("totals:")
    ]
    return sum(totals) / requests


def _callgrind(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)
