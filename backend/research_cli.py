"""The researcher's commands against a running server, over its HTTP API:

    python -m backend.cli submit --test new.csv --reference known.csv --target "UTS(MPa)"
    python -m backend.cli status 12 --follow
    python -m backend.cli export 12 --format csv --layout rounds -o task-12.csv
    python -m backend.cli compare 12 13

API_URL (default http://127.0.0.1:8000) and API_TOKEN (an API token, when accounts are on)
come from the environment, never from the command line (it lands in shell history).
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

COMMANDS = ("submit", "status", "export", "compare")
TERMINAL = ("completed", "failed", "cancelled")
BAR_WIDTH = 30


class CliError(Exception):
    """What went wrong, for a person; the command exits 1."""


def add_commands(sub: Any) -> None:
    submit = sub.add_parser("submit", help="upload two CSV files and start a task")
    submit.add_argument("--test", required=True, help="test CSV (a local file or a stored path)")
    submit.add_argument("--reference", required=True, help="reference CSV (likewise)")
    submit.add_argument("--target", action="append", required=True, help="repeat per target")
    submit.add_argument("--name", help="task name (default: the test file's name)")
    submit.add_argument("--provider", default="baseline")
    submit.add_argument("--model", default="baseline")
    submit.add_argument("--max-iterations", type=int, default=5)
    submit.add_argument("--temperature", type=float)
    submit.add_argument("--encoding", help="the files' encoding, when detection gets it wrong")
    status = sub.add_parser("status", help="a task's status; --follow until it ends")
    status.add_argument("task_id", type=int)
    status.add_argument("--follow", action="store_true", help="a progress bar until it ends")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    export = sub.add_parser("export", help="a task's results as CSV or JSON")
    export.add_argument("task_id", type=int)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--layout", choices=("final", "rounds"), default="final")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    compare = sub.add_parser("compare", help="tasks side by side (with the baseline)")
    compare.add_argument("task_ids", type=int, nargs="+")


def client() -> httpx.Client:
    headers = {}
    token = os.environ.get("API_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = os.environ.get("API_URL", "http://127.0.0.1:8000")
    return httpx.Client(base_url=url, headers=headers, timeout=120)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        body = response.json()
        details = body.get("details")
        message = (
            f"{body.get('error')}: {'; '.join(details) if isinstance(details, list) else details}"
        )
    except ValueError:
        message = response.text[:300]
    raise CliError(f"HTTP {response.status_code} {message}")


def _dataset_path(http: httpx.Client, value: str, encoding: str | None) -> str:
    """A local file is uploaded; anything else is taken as a path the server already stores."""
    local = Path(value)
    if not local.is_file():
        return value
    data = {"encoding": encoding} if encoding else None
    with local.open("rb") as handle:
        files = {"file": (local.name, handle, "text/csv")}
        return _checked(http.post("/api/datasets", files=files, data=data)).json()["path"]


def submit(http: httpx.Client, args: argparse.Namespace, out: TextIO) -> None:
    body: dict[str, Any] = {
        "task_name": args.name or Path(args.test).stem,
        "test_file_path": _dataset_path(http, args.test, args.encoding),
        "reference_file_path": _dataset_path(http, args.reference, args.encoding),
        "target_properties": args.target,
        "llm_provider": args.provider,
        "llm_model": args.model,
        "max_iterations": args.max_iterations,
    }
    if args.temperature is not None:
        body["temperature"] = args.temperature
    started = _checked(http.post("/api/iterative-prediction/start", json=body)).json()
    print(started["task_id"], file=out)
    print(f"started task {started['task_id']}: {started['message']}", file=sys.stderr)


def progress_line(task: dict[str, Any]) -> str:
    done = round(task["progress"] * BAR_WIDTH)
    bar = "#" * done + "." * (BAR_WIDTH - done)
    return (
        f"[{bar}] {task['progress']:6.1%}  {task['status']:<9} round "
        f"{task['current_iteration']}/{task['max_iterations']}  converged "
        f"{task['converged_samples']}/{task['total_samples']}  failed {task['failed_samples']}"
    )


def status(http: httpx.Client, args: argparse.Namespace, out: TextIO) -> None:
    while True:
        task = _checked(http.get(f"/api/tasks/{args.task_id}")).json()
        finished = task["status"] in TERMINAL
        if not args.follow:
            print(progress_line(task), file=out)
            return
        # On a terminal the bar redraws in place; piped, each poll is a line.
        end = "\n" if finished or not out.isatty() else ""
        print(("\r" if out.isatty() else "") + progress_line(task), end=end, file=out, flush=True)
        if finished:
            if task.get("error"):
                print(f"error: {task['error']}", file=out)
            return
        time.sleep(args.interval)


def export(http: httpx.Client, args: argparse.Namespace, out: TextIO) -> None:
    params = {"format": args.format, "layout": args.layout}
    body = _checked(http.get(f"/api/results/{args.task_id}/export", params=params)).content
    if args.output:
        Path(args.output).write_bytes(body)
        print(f"wrote {args.output} ({len(body)} bytes)", file=sys.stderr)
    else:
        out.write(body.decode())


def compare(http: httpx.Client, args: argparse.Namespace, out: TextIO) -> None:
    ids = ",".join(str(i) for i in args.task_ids)
    answer = _checked(http.get("/api/compare", params={"task_ids": ids})).json()
    if not answer["same_test_file"]:
        print("note: these tasks use different test files", file=out)
    targets = list(dict.fromkeys(t for r in answer["tasks"] for t in r["accuracy"]["targets"]))
    header = ["task", "provider", "status"] + [f"{t} MAE 1→final" for t in targets]
    rows = [header + [f"{t} 90% cover" for t in targets]]
    for r in answer["tasks"]:
        cells = [f"#{r['task_id']} {r['task_name']}"[:40], f"{r['llm_provider']}/{r['llm_model']}"]
        cells.append(r["status"])
        for t in targets:
            scores = r["accuracy"]["targets"].get(t)
            cells.append(
                f"{_num(scores['first']['mae'])} → {_num(scores['final']['mae'])}"
                if scores
                else "–"
            )
        for t in targets:
            cover = r["accuracy"].get("interval_coverage", {}).get(t)
            cells.append("–" if cover is None else f"{cover:.1%}")
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) + len(targets))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    commands = {"submit": submit, "status": status, "export": export, "compare": compare}
    try:
        with client() as http:
            commands[args.command](http, args, out)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        url = os.environ.get("API_URL", "http://127.0.0.1:8000")
        print(f"error: cannot reach {url} ({type(exc).__name__}); set API_URL", file=sys.stderr)
        return 2
    return 0
