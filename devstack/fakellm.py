"""A scripted OpenAI-compatible chat server for tests and benchmarks (never used by the service).

It reads the sample id and the round from the prompt, then answers as the script says for that
(sample, round, attempt): values, an HTTP error (429 with Retry-After, 500, 401), a delay longer
than the client's timeout, or malformed text. Every call is logged for assertions.

Script (POST /_script, or `FakeLlm.script(...)`):
    {"samples": {"S1": {"rounds": [ROUND, ...]}}, "default": {"values": {...}, "latency": 0.0}}
    ROUND is a values object {"UTS": 850} or a list of attempts; an attempt is a values object or
    {"status": 429, "retry_after": 0} / {"status": 500} / {"status": 401} /
    {"status": 500, "echo_auth": true} (the error echoes the request's Authorization header) /
    {"delay": 5.0, "values": {...}} / {"text": "not json"}.
A round past the end of the list repeats the last one.

Unscripted samples (and samples scripted as `{"converge_after": N}`, without rounds) get default
values: 100 per target (or `default.values`), 10 % higher per round left before round
`converge_after` (the sample's own, else `default.converge_after`, else 1), then constant.
Benchmarks add, in `default`:
    "latency": 0.2 | {"kind": "lognormal", "mu": -1.6, "sigma": 0.6}   seconds per call
    "fault_rate": {"500": 0.02, "429": 0.01}   probability of each error per unscripted attempt
    "seed": 7                                  seeds latency and faults (reproducible runs)
`GET /_calls?since=N` returns the log from call N on.

Run standalone: python -m devstack.fakellm --port 9100 [--script file.json]
"""

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devstack.process import ROOT, free_port, stop, wait_until

SAMPLE_RE = re.compile(r"^Sample ID: (.+)$", re.MULTILINE)
ROUND_RE = re.compile(r"This is round (\d+) of")
TARGETS_RE = re.compile(r"## Properties to predict\n((?:- .+\n)+)")


@dataclass
class Call:
    sample_id: str
    round: int
    attempt: int
    outcome: str  # "ok", "429", "500", "401", "timeout", "malformed"
    started: float
    ended: float = 0.0


@dataclass
class FakeState:
    samples: dict[str, Any] = field(default_factory=dict)
    default: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    attempts: dict[tuple[str, int], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)


def _answer(values: dict[str, Any], prompt: str) -> str:
    return json.dumps({"analysis": {"reasoning": "scripted"}, "predictions": values})


def _default_values(
    state: FakeState, prompt: str, round_no: int, sample_id: str = "?"
) -> dict[str, Any]:
    """Unscripted samples: values from `default.values` (or 100 per target), converging after
    the sample's own or `default.converge_after` rounds (changing by 10 % each round before)."""
    targets = [t[2:] for t in TARGETS_RE.search(prompt).group(1).splitlines()]  # type: ignore[union-attr]
    base = state.default.get("values", {})
    own = state.samples.get(sample_id) or {}
    after = own.get("converge_after", state.default.get("converge_after", 1))
    factor = 1.0 + 0.1 * max(after - round_no, 0)
    return {t: float(base.get(t, 100.0)) * factor for t in targets}


def _latency(spec: Any, rng: random.Random | None = None) -> float:
    if isinstance(spec, dict) and spec.get("kind") == "lognormal":
        return (rng or random).lognormvariate(spec.get("mu", -1.6), spec.get("sigma", 0.6))
    return float(spec or 0.0)


def _fault(state: FakeState) -> dict[str, Any] | None:
    """A random error for an unscripted attempt, as often as `default.fault_rate` says."""
    draw = state.rng.random()
    for status, rate in (state.default.get("fault_rate") or {}).items():
        if draw < rate:
            return (
                {"status": int(status), "retry_after": 0}
                if status == "429"
                else {"status": int(status)}
            )
        draw -= rate
    return None


def create_app(state: FakeState) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    @app.post("/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        # What a careless proxy echoes back in its errors ({"status": 500, "echo_auth": true}).
        body["_authorization"] = request.headers.get("authorization", "")
        prompt = body["messages"][-1]["content"]
        sample = SAMPLE_RE.search(prompt)
        sample_id = sample.group(1).strip() if sample else "?"
        round_match = ROUND_RE.search(prompt)
        round_no = int(round_match.group(1)) if round_match else 0
        with state.lock:
            key = (sample_id, round_no)
            attempt = state.attempts.get(key, 0) + 1
            state.attempts[key] = attempt
            call = Call(sample_id, round_no, attempt, "ok", time.monotonic())
            state.calls.append(call)
            step = _step(state, sample_id, round_no, attempt)
            if step is None:
                step = _fault(state)
            latency = _latency(state.default.get("latency"), state.rng)
        try:
            return await _respond(state, step, prompt, round_no, call, body, latency)
        finally:
            call.ended = time.monotonic()

    @app.post("/_script")
    async def script(request: Request) -> dict[str, str]:
        payload = await request.json()
        with state.lock:
            state.samples.update(payload.get("samples", {}))
            if "default" in payload:
                state.default = payload["default"]
                _seed(state)
        return {"status": "ok"}

    @app.get("/_calls")
    async def calls(since: int = 0) -> list[dict[str, Any]]:
        with state.lock:
            chosen = state.calls[since:]
        return [dict(c.__dict__) for c in chosen]

    @app.post("/_reset")
    async def reset() -> dict[str, str]:
        with state.lock:
            state.samples.clear()
            state.default = {}
            state.calls.clear()
            state.attempts.clear()
        return {"status": "ok"}

    return app


def _seed(state: FakeState) -> None:
    if "seed" in state.default:
        state.rng.seed(state.default["seed"])


def _step(state: FakeState, sample_id: str, round_no: int, attempt: int) -> dict[str, Any] | None:
    script = state.samples.get(sample_id)
    if not script or "rounds" not in script:
        return None
    rounds = script["rounds"]
    current = rounds[min(round_no, len(rounds)) - 1]
    if isinstance(current, list):
        return current[min(attempt, len(current)) - 1]
    return current


async def _respond(
    state: FakeState,
    step: dict[str, Any] | None,
    prompt: str,
    round_no: int,
    call: Call,
    body: dict[str, Any],
    latency: float = 0.0,
) -> JSONResponse:
    if step is None:
        step = {"values": _default_values(state, prompt, round_no, call.sample_id)}
    if "values" not in step and "status" not in step and "text" not in step:
        step = {"values": step}
    delay = step.get("delay", latency)
    if delay:
        call.outcome = "timeout" if step.get("delay") else "ok"
        await asyncio.sleep(delay)
    status = step.get("status")
    if status:
        call.outcome = str(status)
        headers = {}
        if "retry_after" in step:
            headers["Retry-After"] = str(step["retry_after"])
        message = f"scripted {status}"
        if step.get("echo_auth"):
            message += f"; request had Authorization: {body.get('_authorization', '')}"
        error = {"error": {"message": message, "type": "scripted", "code": status}}
        return JSONResponse(error, status_code=status, headers=headers)
    if "text" in step:
        call.outcome = "malformed"
        content = step["text"]
    else:
        content = _answer(step["values"], prompt)
    return JSONResponse(
        {
            "id": f"chatcmpl-{call.sample_id}-{call.round}-{call.attempt}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(prompt) // 4,
                "completion_tokens": 30,
                "total_tokens": 0,
            },
        }
    )


class FakeLlm:
    """The server in a background thread of the test process, on a free loopback port."""

    def __init__(self, port: int = 0) -> None:
        self.state = FakeState()
        config = uvicorn.Config(
            create_app(self.state), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 15.0) -> "FakeLlm":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def script(self, samples: dict[str, Any] | None = None, **default: Any) -> None:
        with self.state.lock:
            self.state.samples.update(samples or {})
            if default:
                self.state.default = default
                _seed(self.state)

    def calls(self, sample_id: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if sample_id in (None, c.sample_id)]


class FakeLlmProcess:
    """The server in its own process (benchmarks: its CPU is not the caller's), driven over HTTP."""

    def __init__(self, log_path: Any) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeLlmProcess":
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.fakellm", "--port", str(self.port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def answers() -> bool:
            try:
                return self.http.get("/_calls", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, 30, 0.1)
        return self

    def script(self, default: dict[str, Any], samples: dict[str, Any] | None = None) -> None:
        self.http.post("/_reset").raise_for_status()
        body = {"default": default, "samples": samples or {}}
        self.http.post("/_script", json=body).raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        return self.http.get("/_calls").json()

    def stop(self) -> None:
        self.http.close()
        stop(self.process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--script", help="a JSON script file")
    args = parser.parse_args()
    state = FakeState()
    if args.script:
        with open(args.script) as f:
            payload = json.load(f)
        state.samples.update(payload.get("samples", {}))
        state.default = payload.get("default", {})
        _seed(state)
    uvicorn.run(create_app(state), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
