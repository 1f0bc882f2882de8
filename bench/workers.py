"""Issue 11's benchmarks: tasks run by separate worker processes (`python -m backend.worker`, the
API with EMBEDDED_WORKER=false), as compose runs them.

- throughput with 1, 2 and 4 workers against a zero-latency fake LLM, and the workers' CPU per
  prediction (orchestration);
- the makespan bar with 2 workers sharing one task;
- failover: one of two workers SIGKILLed mid-task: time until its batches run again, calls
  repeated;
- a 100 000-sample × 3-round task: RSS of the API and of each worker, history page latency;
- a provider limit: three tasks × max_workers 8 under LLM_MAX_CONCURRENT_CALLS=4, the peak of
  calls in flight the fake LLM saw.
"""

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from bench import analysis
from bench.data import synthetic_test_csv
from bench.stack import MemoryWatch, bench_body, cpu_seconds, task_seconds
from devstack.api import TERMINAL
from devstack.process import wait_until

if TYPE_CHECKING:
    from bench.scenarios import Bench

Result = dict[str, Any]


def _body(bench: "Bench", test: str, **extra: Any) -> dict[str, Any]:
    return bench_body(test, bench.reference, **extra)


def peak_in_flight(calls: list[dict[str, Any]]) -> int:
    events = sorted(
        [(c["started"], 1) for c in calls] + [(c["ended"] or c["started"], -1) for c in calls],
        key=lambda e: (e[0], e[1]),
    )
    peak = level = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def throughput(bench: "Bench") -> list[Result]:
    n = 400 if bench.quick else 2000
    rounds = 2
    runs = {}
    for count in (1, 2, 4):
        workers = bench.stack.use_workers(count, TASK_BATCH_SIZE="25")
        bench.stack.script({"latency": 0.0, "converge_after": 99})
        test = bench.stack.upload(f"tp{count}.csv", synthetic_test_csv(n, f"tp{count}", seed=21))
        before = sum(cpu_seconds(w.pid) for w in workers)
        task_id = bench.stack.start(
            **_body(bench, test, max_iterations=rounds, early_stop=False, max_workers=20)
        )
        task = bench.stack.wait(task_id, 900)
        cpu = sum(cpu_seconds(w.pid) for w in workers) - before
        predictions = n * rounds
        runs[count] = {
            "workers": count,
            "status": task["status"],
            "predictions": predictions,
            "makespan_s": task_seconds(task),
            "predictions_per_s": predictions / task_seconds(task),
            "worker_cpu_ms_per_prediction": cpu / predictions * 1000,
        }
    two = runs[2]
    figure = "; ".join(
        f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}: "
        f"{r['predictions_per_s']:.0f}/s, {r['worker_cpu_ms_per_prediction']:.2f} ms CPU each"
        for r in runs.values()
    )
    return [
        {
            "key": "workers_throughput",
            "what": f"throughput, {n} samples × {rounds} rounds, zero-latency fake LLM, "
            "max_workers 20, worker processes (2 cores: the API, PostgreSQL, the fake LLM and "
            "the workers share them)",
            "bar": "≥ 400 predictions/s with 2 workers",
            "figure": figure,
            "passed": two["predictions_per_s"] >= 400,
            "details": runs,
        },
        {
            "key": "workers_orchestration",
            "what": "worker CPU per prediction (orchestration incl. litellm), 2 workers",
            "bar": "≤ 2 ms per prediction per core",
            "figure": f"{two['worker_cpu_ms_per_prediction']:.2f} ms",
            "passed": two["worker_cpu_ms_per_prediction"] <= 2.0,
            "details": two,
        },
    ]


def shared_makespan(bench: "Bench") -> list[Result]:
    bench.stack.use_workers(2, TASK_BATCH_SIZE="10")
    # Fresh worker processes: their first calls set litellm up. One untimed run first, then
    # three, the median judged (as the scheduling bars are).
    bench.makespan(20, 20, seed=1, repeat=-1)
    tries = [bench.makespan(20, 20, seed=1, repeat=k) for k in range(3)]
    run = analysis.median_run(tries, "ratio_to_chain")
    ratios = [t["ratio_to_chain"] for t in tries]
    return [
        {
            "key": "workers_makespan_20@20",
            "what": "makespan, 20 samples in 2 batches on 2 workers, max_workers 20, "
            "lognormal σ=0.6, 3 runs after a warm-up run",
            "bar": "≤ 1.10 × longest per-sample chain (median run)",
            "figure": f"{run['ratio_to_chain']:.3f} × chain (min {min(ratios):.3f}, max "
            f"{max(ratios):.3f}; {run['makespan_s']:.2f} s vs {run['longest_chain_s']:.2f} s)",
            "passed": run["ratio_to_chain"] <= 1.10,
            "details": analysis.repeated_details(run, tries),
        }
    ]


def failover(bench: "Bench") -> list[Result]:
    n = 200
    workers = bench.stack.use_workers(2, TASK_BATCH_SIZE="10")
    bench.stack.script({"latency": 0.2, "converge_after": 99})
    test = bench.stack.upload("failover.csv", synthetic_test_csv(n, "fo", seed=31))
    task_id = bench.stack.start(
        **_body(bench, test, max_iterations=3, early_stop=False, max_workers=20)
    )
    wait_until(lambda: len(bench.stack.calls()) >= n, 300, 0.05)
    at_kill = bench.stack.calls()
    killed = time.monotonic()
    workers[0].kill()
    task = bench.stack.wait(task_id, 600)
    calls = bench.stack.calls()
    open_at_kill = {c["sample_id"] for c in at_kill if not c["ended"]}
    resumed: dict[str, float] = {}
    for call in calls:
        if call["sample_id"] in open_at_kill and call["started"] > killed:
            resumed.setdefault(call["sample_id"], call["started"] - killed)
    asked = {(c["sample_id"], c["round"]) for c in calls}
    repeated = len(calls) - len(asked)
    stalled = float(bench.stack.api_env()["WORKER_STALLED_SECONDS"])
    late = max(resumed.values(), default=float("nan"))
    return [
        {
            "key": "workers_failover",
            "what": f"failover: {n} samples × 3 rounds (0.2 s calls) on 2 workers, one SIGKILLed "
            f"mid-task (WORKER_STALLED_SECONDS={stalled:g})",
            "bar": "the task completes; repeated calls ≤ calls in flight at the kill",
            "figure": f"task {task['status']}; the killed worker's samples ran again after "
            f"{min(resumed.values(), default=float('nan')):.1f}–{late:.1f} s; {repeated} calls "
            f"repeated, {len(open_at_kill)} were in flight",
            "passed": task["status"] == "completed" and repeated <= len(open_at_kill),
            "details": {
                "samples": n,
                "in_flight_at_kill": len(open_at_kill),
                "repeated_calls": repeated,
                "resumed_after_s": sorted(resumed.values()),
            },
        }
    ]


def scale(bench: "Bench") -> list[Result]:
    n = 20_000 if bench.quick else 100_000
    rounds = 3
    workers = bench.stack.use_workers(2)
    test = bench.stack.upload("scale.csv", synthetic_test_csv(n, "scale", seed=11))
    watches = [MemoryWatch(bench.stack.api_pid), *(MemoryWatch(w.pid) for w in workers)]
    for watch in watches:
        watch.__enter__()
    page_ms: list[float] = []
    try:
        started = time.perf_counter()
        task_id = bench.stack.start(
            **_body(
                bench,
                test,
                llm_provider="baseline",
                llm_model="knn",
                max_iterations=rounds,
                early_stop=False,
            )
        )
        start_s = time.perf_counter() - started
        while (task := bench.stack.task(task_id))["status"] not in TERMINAL:
            began = time.perf_counter()
            page = bench.stack.http.get(
                f"/api/results/{task_id}/iterations", params={"limit": 100, "offset": n // 2}
            )
            if page.status_code == 200:
                page_ms.append((time.perf_counter() - began) * 1000)
            time.sleep(1)
    finally:
        for watch in watches:
            watch.__exit__(None, None, None)
    mb = 1024 * 1024
    api_mb = watches[0].peak_tree / mb  # gunicorn master and its workers: the API processes
    worker_mb = [w.peak_process / mb for w in watches[1:]]
    p95 = float(np.percentile(page_ms, 95)) if page_ms else float("nan")
    return [
        {
            "key": "workers_scale",
            "what": f"a {n}-sample × {rounds}-round baseline task on 2 workers",
            "bar": "RSS ≤ 300 MB in the API and in each worker; history page p95 ≤ 50 ms",
            "figure": f"task {task['status']} in {task_seconds(task):.0f} s (start request "
            f"{start_s:.1f} s); peak RSS: API {watches[0].peak_process / mb:.0f} MB per process, "
            f"workers {', '.join(f'{m:.0f}' for m in worker_mb)} MB; history page of 100 while "
            f"running p95 {p95:.0f} ms",
            "passed": task["status"] == "completed"
            and watches[0].peak_process / mb <= 300
            and max(worker_mb) <= 300
            and p95 <= 50,
            "details": {
                "samples": n,
                "start_s": start_s,
                "makespan_s": task_seconds(task),
                "api_peak_process_mb": watches[0].peak_process / mb,
                "api_tree_mb": api_mb,
                "worker_peak_mb": worker_mb,
                "history_page_ms": page_ms,
            },
        }
    ]


def provider_limit(bench: "Bench") -> list[Result]:
    bench.stack.use_workers(2, LLM_MAX_CONCURRENT_CALLS="4")
    bench.stack.script({"latency": 0.3, "converge_after": 2})
    tasks = []
    for k in range(3):
        test = bench.stack.upload(f"pl{k}.csv", synthetic_test_csv(24, f"pl{k}", seed=40 + k))
        tasks.append(bench.stack.start(**_body(bench, test, max_iterations=3, max_workers=8)))
    done = [bench.stack.wait(t, 600) for t in tasks]
    calls = bench.stack.calls()
    peak = peak_in_flight(calls)
    span = max(c["ended"] for c in calls) - min(c["started"] for c in calls)
    return [
        {
            "key": "workers_provider_limit",
            "what": "three tasks × max_workers 8 (24 samples each, 0.3 s calls) on 2 workers "
            "under LLM_MAX_CONCURRENT_CALLS=4",
            "bar": "peak calls in flight at the provider ≤ 4",
            "figure": f"peak {peak} in flight; {len(calls)} calls in {span:.1f} s "
            f"(occupancy of the 4 slots {analysis.total_latency(calls) / span / 4:.0%})",
            "passed": peak <= 4 and all(t["status"] == "completed" for t in done),
            "details": {"peak_in_flight": peak, "calls": len(calls), "span_s": span},
        }
    ]


def run_all(bench: "Bench") -> list[Result]:
    results: list[Result] = []
    try:
        for scenario in (throughput, shared_makespan, failover, provider_limit, scale):
            results += scenario(bench)
    finally:
        bench.stack.use_embedded()
    return results
