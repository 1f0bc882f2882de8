"""`python -m bench [--quick] [--only NAME ...]`: start the stack, run the scenarios, write
docs/BENCHMARKS.md, docs/bench/results.json and the plots.

Scenarios (in run order): scheduling (makespan, occupancy, early stop), overhead, status,
instructions (callgrind, where valgrind is installed: slow to start), history, memory,
accuracy, workers (separate worker processes: throughput, makespan, failover, provider limit, a
100 000-sample task). `--quick` shrinks the large ones (for trying the bench
out; the documented figures come from a full run)."""

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from bench import report
from bench.scenarios import Bench, soak
from bench.stack import ROOT, Stack

SCENARIOS = (
    "scheduling",
    "overhead",
    "status",
    "instructions",
    "history",
    "memory",
    "accuracy",
    "workers",
    "soak",
)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}, {psutil.cpu_count()} cores, {memory:.0f} GB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "backend", "gunicorn.conf.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + (" (backend has uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a try-out")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where BENCHMARKS.md goes")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    out = Path(args.out)
    (out / "bench").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    meta: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", "-m", "bench", *(argv or sys.argv[1:])]),
        "commit": _commit(),
        "machine": _machine(),
        "load_before": _load(),
        "quick": args.quick,
        "errors": {},
        "settled": {},  # per scenario: jobs still queued or running when it was due to start
    }
    results: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    with Stack(keep=args.keep) as stack:
        print(f"stack up in {time.monotonic() - started:.0f} s ({stack.dir})", flush=True)
        bench = Bench(stack, quick=args.quick)
        bench.warm_up()
        for name in [c for c in chosen if c != "soak"]:
            t0 = time.monotonic()
            print(f"-- {name}", flush=True)
            meta["settled"][name] = settled = bench.settle()
            if settled["active_jobs"]:
                print(f"   (waited {settled['waited_s']} s for {settled['active_jobs']} jobs)")
            try:
                produced = getattr(bench, name)()
            except Exception as exc:  # one broken scenario must not hide the others
                traceback.print_exc()
                meta["errors"][name] = f"{type(exc).__name__}: {exc}"
                produced = []
            timings[name] = time.monotonic() - t0
            for r in produced:
                print(f"   {r['key']}: {r['figure']} -> {r['passed']}", flush=True)
            results += produced
        series = bench.series
    if "soak" in chosen:  # its own servers (the test's fixtures), after the stack is gone
        t0 = time.monotonic()
        print("-- soak", flush=True)
        produced = soak(60 if args.quick else 500, out / "bench" / "soak.json")
        timings["soak"] = time.monotonic() - t0
        for r in produced:
            print(f"   {r['key']}: {r['figure']} -> {r['passed']}", flush=True)
        results += produced
    meta["load_after"] = _load()
    meta["duration_s"] = time.monotonic() - started
    meta["scenario_seconds"] = timings
    meta["plots"] = report.write_plots(series, out / "bench")
    report.write_json(out / "bench" / "results.json", {"meta": meta, "results": results})
    report.write_markdown(out / "BENCHMARKS.md", meta, results)
    print(f"wrote {out / 'BENCHMARKS.md'} in {meta['duration_s']:.0f} s", flush=True)
    missed = [r["key"] for r in results if r["passed"] is False]
    if missed:
        print(f"bars missed: {', '.join(missed)}", flush=True)
    return 1 if meta["errors"] or missed else 0
