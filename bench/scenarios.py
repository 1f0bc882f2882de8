"""The scenarios of issue 5, each measured against its bar in DESIGN.md.

Each returns a dict: `key`, `what`, `bar`, `figure` (text for the table), `passed`
(True/False, or None where the bar is "reported"), and `details` (raw numbers for the JSON)."""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg
from sqlalchemy import insert

from bench import analysis
from bench import status as status_bench
from bench import workers as worker_scenarios
from bench.data import TARGETS, demo_split, reference_csv, synthetic_test_csv
from bench.stack import ROOT, MemoryWatch, Stack, bench_body, cpu_seconds, task_seconds
from bench.status import spread
from devstack.process import wait_until

# The scripted LLM's latency: median 1 s (e^mu), as fast as a real provider answers these prompts.
# The scheduling bars judge scheduling (no round barrier, slots kept busy); the service's CPU per
# call (~10 ms between a sample's rounds here) is judged on its own, against the plain loop. At a
# 0.2 s median (mu -1.6, until Dec 2026) that CPU weighed five times more in those ratios and
# their verdicts moved with the machine's speed.
LOGNORMAL: dict[str, Any] = {"kind": "lognormal", "mu": 0.0, "sigma": 0.6}
Result = dict[str, Any]


class Bench:
    """Runs the scenarios in order on one stack; shares the uploaded reference file."""

    def __init__(self, stack: Stack, quick: bool = False) -> None:
        self.stack = stack
        self.quick = quick
        self.reference = stack.upload("mpea_reference.csv", reference_csv())
        self.series: dict[str, Any] = {}  # for the plots

    def _run(
        self,
        n: int,
        prefix: str,
        default: dict[str, Any],
        samples: dict[str, Any] | None = None,
        timeout: float = 600,
        **extra: Any,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self.stack.script(default, samples)
        test = self.stack.upload(f"{prefix}.csv", synthetic_test_csv(n, prefix, seed=n))
        task_id = self.stack.start(**bench_body(test, self.reference, **extra))
        task = self.stack.wait(task_id, timeout)
        if task["status"] != "completed":
            raise RuntimeError(f"task {task_id} ended {task['status']}: {task['error']}")
        return task, self.stack.calls()

    def settle(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until no job is queued or running: a scenario that starts while jobs run in the API
        process measures their CPU too. (After the status scenario cancels its task and stops
        the worker process, that task's 10 batches stay queued or running for ~85 s.)"""
        started = time.monotonic()
        url = self.stack.db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as connection:

            def active() -> int:
                row = connection.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN "
                    "('todo', 'doing', 'aborting')"
                ).fetchone()
                return int(row[0]) if row else 0

            found = active()
            with contextlib.suppress(TimeoutError):  # measured anyway; `still_active` says so
                wait_until(lambda: active() == 0, timeout, 0.2)
            return {
                "active_jobs": found,
                "waited_s": round(time.monotonic() - started, 1),
                "still_active": active(),
            }

    def warm_up(self) -> None:
        """Small tasks so each gunicorn worker has made its first litellm call (imports, client
        set-up) before anything is timed. The client reconnects after each (Connection: close),
        so the starts spread over the workers: a task landing on a cold worker would otherwise
        pay that set-up inside a timed makespan."""
        for k in range(4 * self.stack.workers):
            self._run(4, f"warm{k}", {"latency": 0.0, "converge_after": 1})
            self.stack.http.get("/api/health", headers={"connection": "close"})

    # -- makespan, occupancy, early stop -----------------------------------------------------

    def makespan(
        self, n: int, slots: int, seed: int, early_stop: bool = True, repeat: int = 0
    ) -> Result:
        ids = [f"ms{n}w{slots}{'' if early_stop else 'x'}r{repeat}-{i}" for i in range(n)]
        # Sample i converges at round 2 + i % 4 (values constant from round 1 + i % 4 on).
        samples = {sid: {"converge_after": 1 + i % 4} for i, sid in enumerate(ids)}
        task, calls = self._run(
            n,
            ids[0].rsplit("-", 1)[0],
            {"latency": LOGNORMAL, "seed": seed},
            samples,
            max_workers=slots,
            max_iterations=5,
            early_stop=early_stop,
        )
        makespan = task_seconds(task)
        span = max(c["ended"] for c in calls) - min(c["started"] for c in calls)
        chain = analysis.longest_chain(calls)
        total = analysis.total_latency(calls)
        bound = max(chain, total / slots)
        occupancy = analysis.occupancy(calls, slots)
        gaps = analysis.round_gaps(calls)
        return {
            "samples": n,
            "max_workers": slots,
            "early_stop": early_stop,
            "calls": len(calls),
            "makespan_s": makespan,
            "call_span_s": span,
            "longest_chain_s": chain,
            "total_latency_s": total,
            "total_over_slots_s": total / slots,
            "lower_bound_s": bound,
            "ratio_to_chain": makespan / chain,
            "ratio_to_lower_bound": makespan / bound,
            "barrier_makespan_s": analysis.barrier_makespan(calls, slots),
            "free_flow_makespan_s": analysis.free_flow_makespan(calls, slots),
            "occupancy": occupancy["occupancy"],
            "pending_s": occupancy["pending_seconds"],
            "gap_between_rounds_ms": {
                "p50": analysis.percentile(gaps, 50) * 1000,
                "p95": analysis.percentile(gaps, 95) * 1000,
                "max": max(gaps, default=0.0) * 1000,
            },
            "series": occupancy["series"],
            "latencies": [analysis.duration(c) for c in calls],
        }

    def scheduling(self) -> list[Result]:
        # Each run is a few seconds; its verdict would flip with the machine's load from one run
        # to the next: every configuration runs `repeats` times (the same latencies: the seed)
        # and the median run is judged, min and max shown.
        repeats = 3
        configs = {
            "20@20": (20, 20, 1, True),
            "32@8": (32, 8, 2, True),
            "32@20": (32, 20, 3, True),
            "32@20 no early stop": (32, 20, 3, False),
        }
        all_runs = {
            name: [self.makespan(n, w, seed, stop, repeat=k) for k in range(repeats)]
            for name, (n, w, seed, stop) in configs.items()
        }
        judged = {"20@20": "ratio_to_chain"}  # occupancy for the others
        runs = {
            name: analysis.median_run(tries, judged.get(name, "occupancy"))
            for name, tries in all_runs.items()
        }
        self.series["scheduling"] = runs
        results = []
        for name in ("20@20", "32@20", "32@8"):
            run, tries = runs[name], all_runs[name]
            barrier_ratio = run["barrier_makespan_s"] / run["longest_chain_s"]
            if run["max_workers"] >= run["samples"]:
                ratios = spread([t["ratio_to_chain"] for t in tries])
                results.append(
                    {
                        "key": f"makespan_{name}",
                        "what": f"makespan, {run['samples']} samples, max_workers "
                        f"{run['max_workers']} (≥ samples), lognormal σ=0.6, {repeats} runs",
                        "bar": "≤ 1.10 × longest per-sample chain (median run)",
                        "figure": f"{run['ratio_to_chain']:.3f} × chain (min "
                        f"{ratios['min']:.3f}, max {ratios['max']:.3f}; "
                        f"{run['makespan_s']:.2f} s vs {run['longest_chain_s']:.2f} s); "
                        f"round barrier would be {barrier_ratio:.2f} × "
                        f"({run['barrier_makespan_s']:.2f} s)",
                        "passed": run["ratio_to_chain"] <= 1.10,
                        "details": analysis.repeated_details(run, tries),
                    }
                )
            else:
                busy = spread([t["occupancy"] for t in tries])
                results.append(
                    {
                        "key": f"makespan_{name}",
                        "what": f"makespan, {run['samples']} samples, max_workers "
                        f"{run['max_workers']}, lognormal σ=0.6 (samples outnumber slots), "
                        f"{repeats} runs",
                        "bar": "≥ 95 % of slots busy while calls are pending (median run); "
                        "ratio to lower bound reported",
                        "figure": f"occupancy {run['occupancy']:.1%} (min {busy['min']:.1%}, "
                        f"max {busy['max']:.1%}); "
                        f"{run['ratio_to_lower_bound']:.3f} × lower bound "
                        f"({run['makespan_s']:.2f} s vs max(chain {run['longest_chain_s']:.2f} s,"
                        f" total/slots {run['total_over_slots_s']:.2f} s)); round barrier "
                        f"{run['barrier_makespan_s']:.2f} s "
                        f"({run['barrier_makespan_s'] / run['lower_bound_s']:.2f} × bound)",
                        "passed": run["occupancy"] >= 0.95,
                        "details": analysis.repeated_details(run, tries),
                    }
                )
        with_stop, without = runs["32@20"], runs["32@20 no early stop"]
        every = with_stop["samples"] * 5
        results.append(
            {
                "key": "early_stop_savings",
                "what": "LLM calls saved by per-sample early stop (32 samples converging at "
                "rounds 2–5, max_iterations 5)",
                "bar": "reported, vs all samples × all rounds",
                "figure": f"{with_stop['calls']} calls vs {every} "
                f"({1 - with_stop['calls'] / every:.1%} saved; measured without early stop: "
                f"{without['calls']} calls, {without['makespan_s']:.2f} s vs "
                f"{with_stop['makespan_s']:.2f} s)",
                "passed": None,
                "details": {
                    "calls_with_early_stop": with_stop["calls"],
                    "calls_without_early_stop": without["calls"],
                    "samples_times_rounds": every,
                    "saved_fraction": 1 - with_stop["calls"] / every,
                },
            }
        )
        return results

    # -- orchestration overhead --------------------------------------------------------------

    def overhead(self) -> list[Result]:
        n, rounds = (200, 5) if self.quick else (1000, 5)
        out = {}
        for provider in ("openai", "baseline"):
            self.stack.script({"latency": 0.0, "converge_after": 99})
            test = self.stack.upload(
                f"oh-{provider}.csv", synthetic_test_csv(n, f"oh{provider}", seed=5)
            )
            api_cpu = cpu_seconds(self.stack.api_pid)
            fake_cpu = cpu_seconds(self.stack.fake.process.pid)  # type: ignore[union-attr]
            pg_cpu = _pg_cpu(self.stack)
            task_id = self.stack.start(
                **bench_body(
                    test,
                    self.reference,
                    llm_provider=provider,
                    max_iterations=rounds,
                    early_stop=False,
                    max_workers=20,
                )
            )
            task = self.stack.wait(task_id, 900)
            predictions = n * rounds
            wall = task_seconds(task)
            out[provider] = {
                "samples": n,
                "rounds": rounds,
                "predictions": predictions,
                "status": task["status"],
                "makespan_s": wall,
                "wall_ms_per_prediction": wall / predictions * 1000,
                "api_cpu_ms_per_prediction": (cpu_seconds(self.stack.api_pid) - api_cpu)
                / predictions
                * 1000,
                "fake_llm_cpu_ms_per_prediction": (
                    cpu_seconds(self.stack.fake.process.pid)  # type: ignore[union-attr]
                    - fake_cpu
                )
                / predictions
                * 1000,
                "postgres_cpu_ms_per_prediction": (_pg_cpu(self.stack) - pg_cpu)
                / predictions
                * 1000,
            }
        llm, knn = out["openai"], out["baseline"]
        plain = _plain_loop(self.stack, n, rounds, slots=20)
        out["plain_loop"] = plain
        wall_ratio = llm["wall_ms_per_prediction"] / plain["wall_ms_per_call"]
        cpu_ratio = llm["api_cpu_ms_per_prediction"] / plain["cpu_ms_per_call"]
        return [
            {
                "key": "orchestration_overhead",
                "what": f"orchestration per prediction, zero-latency LLM, {n} samples × "
                f"{rounds} rounds, max_workers 20, vs a plain asyncio loop making the same "
                "calls through litellm at the same concurrency in the same run "
                "(bench/plain_loop.py: no database, no graph)",
                # DESIGN's "≤ 2 ms CPU" of orchestration, as a ratio that holds on any machine:
                # the service may add at most half of what the bare call costs here (~3.5 ms).
                "bar": "API CPU per prediction ≤ 1.5 × the plain loop's CPU per call",
                "figure": f"{llm['wall_ms_per_prediction']:.2f} ms wall per prediction = "
                f"{wall_ratio:.2f} × the plain loop's {plain['wall_ms_per_call']:.2f} ms; "
                f"API CPU {llm['api_cpu_ms_per_prediction']:.2f} ms = {cpu_ratio:.2f} × the "
                f"loop's {plain['cpu_ms_per_call']:.2f} ms (PostgreSQL "
                f"{llm['postgres_cpu_ms_per_prediction']:.2f} ms, fake LLM "
                f"{llm['fake_llm_cpu_ms_per_prediction']:.2f} ms); without LLM calls "
                f"(baseline provider) {knn['wall_ms_per_prediction']:.2f} ms",
                "passed": cpu_ratio <= 1.5,
                "details": out,
            }
        ]

    # -- GET /api/tasks/{id}: one process vs the floor; the deployment under load ------------

    def status(self) -> list[Result]:
        ids = _insert_tasks(self.stack, 1000, samples_each=20)
        span = (ids[0], ids[-1])
        repeats, seconds = (3, 3.0) if self.quick else (6, 4.0)
        alone = status_bench.one_process_vs_floor(self.stack, span, repeats, seconds)
        # The production deployment (compose): the API's 2 gunicorn workers answer requests and
        # a worker process runs tasks; a 1 000-sample task runs through the whole load test.
        self.stack.use_workers(1)
        self.stack.script({"latency": 0.2, "converge_after": 99})
        test = self.stack.upload("status-load.csv", synthetic_test_csv(1000, "stl", seed=11))
        running = self.stack.start(
            **bench_body(test, self.reference, max_iterations=10, early_stop=False, max_workers=20)
        )
        try:
            wait_until(lambda: self.stack.task(running)["status"] == "running", 60, 0.1)
            loaded = status_bench.deployment_under_load(self.stack, span, repeats, seconds)
            still = self.stack.task(running)["status"]
            progress = self.stack.task(running)["progress"]
        finally:
            self.stack.http.post(f"/api/tasks/{running}/cancel")
            self.stack.use_embedded()
        self.series["status"] = {"alone": alone, "loaded": loaded}
        ratio, p95 = alone["ratio"], loaded["p95_ms"]
        return [
            {
                "key": "status_vs_floor",
                "what": "GET /api/tasks/{id}, one gunicorn worker, production settings, bearer "
                "token, closed loop (wrk, 32 connections), vs a bare ASGI + psycopg app reading "
                f"the same row in the same run ({repeats} alternating pairs)",
                "bar": "≥ 25 % of the bare app (median of the pairs)",
                "figure": f"{ratio['median']:.1%} of the bare app (min {ratio['min']:.1%}, max "
                f"{ratio['max']:.1%}); API {alone['api_rps']['median']:.0f} req/s "
                f"({alone['api_cpu_ms']['median']:.2f} ms CPU per request) vs bare "
                f"{alone['floor_rps']['median']:.0f} req/s "
                f"({alone['floor_cpu_ms']['median']:.2f} ms)",
                "passed": ratio["median"] >= 0.25 and alone["errors"] == 0,
                "details": alone,
            },
            {
                "key": "status_under_load",
                "what": "GET /api/tasks/{id} on the production deployment (API: gunicorn, 2 "
                "workers; one worker process), 100 pollers each asking about once a second, "
                "1 000 tasks stored, a 1 000-sample task running (20 calls in flight; "
                f"{still} at the end, progress {progress:.0%})",
                "bar": "p95 ≤ 20 ms and closed-loop capacity ≥ 1 000 req/s (medians of the runs)",
                "figure": f"p95 {p95['median']:.1f} ms (min {p95['min']:.1f}, max "
                f"{p95['max']:.1f}), p99 {loaded['p99_ms']['median']:.1f} ms, "
                f"{loaded['paced_rps']['median']:.0f} req/s offered; closed loop "
                f"{loaded['closed_rps']['median']:.0f} req/s (min "
                f"{loaded['closed_rps']['min']:.0f}, max {loaded['closed_rps']['max']:.0f}) = "
                f"{loaded['closed_rps']['median'] / alone['floor_rps']['median']:.2f} × one bare "
                f"process, p95 {loaded['closed_p95_ms']['median']:.0f} ms; "
                f"{loaded['errors']} errors",
                "passed": p95["median"] <= 20.0
                and loaded["closed_rps"]["median"] >= 1000
                and loaded["errors"] == 0
                and still == "running",
                "details": {**loaded, "tasks_stored": len(ids)},
            },
        ]

    # -- instructions per status request (callgrind) ---------------------------------------

    def instructions(self) -> list[Result]:
        ids = _insert_tasks(self.stack, 50, samples_each=20)
        span = (ids[0], ids[-1])
        requests = 50 if self.quick else 200
        api = status_bench.instructions_per_request(self.stack, span, "backend.main:app", requests)
        floor = status_bench.instructions_per_request(self.stack, span, "bench.floor:app", requests)
        if api is None or floor is None:
            return []
        return [
            {
                "key": "status_instructions",
                "what": "GET /api/tasks/{id}: CPU instructions per request in the server process "
                f"(callgrind, {requests} requests, bearer token, uvicorn without access log), "
                "vs the bare ASGI + psycopg app",
                "bar": "reported (repeatable whatever the machine does)",
                "figure": f"API {api / 1e6:.2f} M instructions per request, bare app "
                f"{floor / 1e6:.2f} M ({floor / api:.1%} of the API's)",
                "passed": None,
                "details": {"api": api, "floor": floor, "requests": requests},
            }
        ]

    # -- iteration history -------------------------------------------------------------------

    def history(self) -> list[Result]:
        task_id = _insert_history(self.stack, 2000, 10)
        path = f"/api/results/{task_id}/iterations"
        self.stack.http.get(path).raise_for_status()  # warm-up
        # Nine pairs, the median judged: on a shared machine a slow spell lasts a few requests.
        repeats = 9
        timings, reference = [], []
        size = 0
        for _ in range(repeats):
            started = time.perf_counter()
            response = self.stack.http.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            size = len(response.content)
            reference.append(_serialise_rows_directly(self.stack, task_id))
        ratios = [t / r for t, r in zip(timings, reference, strict=True)]
        page = []
        for index in range(5):
            started = time.perf_counter()
            params = {"limit": 100, "offset": index * 300}
            self.stack.http.get(path, params=params).raise_for_status()
            page.append((time.perf_counter() - started) * 1000)
        median = statistics.median(timings)
        ratio = statistics.median(ratios)
        return [
            {
                "key": "history_latency",
                "what": "GET /api/results/{id}/iterations, 2 000 samples × 10 rounds, 3 targets "
                f"({repeats} runs)",
                # Judged on the ratio (issue 14): the reference takes 60–135 ms on this machine
                # depending on the hour, and an absolute bar flips with it. 1.5 × is stricter
                # than the 150 ms target wherever the reference takes ≤ 100 ms.
                "bar": "≤ 1.5 × reading and serialising the same rows directly (psycopg + "
                "orjson) in the same run (median of the pairs); the target: ≤ 150 ms",
                "figure": f"median {median:.0f} ms (min {min(timings):.0f}, max "
                f"{max(timings):.0f}; {size / 1e6:.1f} MB) = {ratio:.2f} × the direct reference "
                f"({statistics.median(reference):.0f} ms); a page of 100 samples: "
                f"{statistics.median(page):.0f} ms",
                "passed": ratio <= 1.5,
                "details": {
                    "task_id": task_id,
                    "timings_ms": timings,
                    "reference_ms": reference,
                    "ratios": ratios,
                    "page_of_100_ms": page,
                    "bytes": size,
                },
            }
        ]

    # -- memory ------------------------------------------------------------------------------

    def memory(self) -> list[Result]:
        n = 2000 if self.quick else 10_000
        self.stack.script({"latency": 0.0, "converge_after": 1})
        test = self.stack.upload("rss.csv", synthetic_test_csv(n, "rss", seed=9))
        with MemoryWatch(self.stack.api_pid) as watch:
            task_id = self.stack.start(
                **bench_body(test, self.reference, max_iterations=2, max_workers=20)
            )
            task = self.stack.wait(task_id, 600)
        self.series["rss"] = watch.samples
        mb = 1024 * 1024
        return [
            {
                "key": "api_rss",
                "what": f"API process memory during a {n}-sample task (2 rounds each, "
                "zero-latency LLM, max_workers 20)",
                "bar": "≤ 500 MB RSS",
                "figure": f"peak {watch.peak_process / mb:.0f} MB in the worker running it "
                f"(whole gunicorn tree: {watch.peak_tree / mb:.0f} MB, 1 master + "
                f"{self.stack.workers} workers); task {task['status']} in "
                f"{task_seconds(task):.0f} s",
                "passed": watch.peak_process <= 500 * mb and task["status"] == "completed",
                "details": {
                    "samples": n,
                    "peak_process_mb": watch.peak_process / mb,
                    "peak_tree_mb": watch.peak_tree / mb,
                    "status": task["status"],
                    "makespan_s": task_seconds(task),
                },
            }
        ]

    # -- separate worker processes (issue 11) -------------------------------------------------

    def workers(self) -> list[Result]:
        return worker_scenarios.run_all(self)

    # -- baseline accuracy -------------------------------------------------------------------

    def accuracy(self) -> list[Result]:
        reference, test = demo_split()
        ref_path = self.stack.upload("mpea_reference_split.csv", reference.to_csv(index=False))
        test_path = self.stack.upload("mpea_test_split.csv", test.to_csv(index=False))
        task_id = self.stack.start(
            **bench_body(test_path, ref_path, llm_provider="baseline", llm_model="knn")
        )
        self.stack.wait(task_id, 300)
        history = self.stack.http.get(f"/api/results/{task_id}/iterations").json()
        predicted = {s["sample_id"]: s["final_predictions"] for s in history["samples"].values()}
        truth = test.set_index("ID")
        table = {}
        for target in TARGETS:
            known = truth[target].to_numpy(dtype=float)
            knn = np.array([predicted[i][target] for i in truth.index], dtype=float)
            mean = float(reference[target].mean())
            table[target] = {
                "knn_mae": float(np.mean(np.abs(knn - known))),
                "mean_predictor_mae": float(np.mean(np.abs(mean - known))),
            }
        better = sum(v["knn_mae"] < v["mean_predictor_mae"] for v in table.values())
        figure = "; ".join(
            f"{t}: kNN {v['knn_mae']:.1f} vs mean {v['mean_predictor_mae']:.1f}"
            for t, v in table.items()
        )
        return [
            {
                "key": "baseline_accuracy",
                "what": f"baseline (distance-weighted kNN) MAE on the MPEA split "
                f"({len(reference)} reference / {len(test)} test rows, seed 42)",
                "bar": "MAE per target reported next to a mean predictor",
                "figure": f"{figure} (kNN better on {better}/{len(TARGETS)})",
                "passed": None,
                "details": table,
            }
        ]


def soak(samples: int, report_path: Path) -> list[Result]:
    """The robustness soak (tests/robustness/test_soak.py) at full size, via pytest."""
    env = {**os.environ, "SOAK_SAMPLES": str(samples), "SOAK_REPORT": str(report_path)}
    report_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command.append("tests/robustness/test_soak.py")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    passed = done.returncode == 0
    figures = json.loads(report_path.read_text()) if report_path.exists() else {}
    if passed:
        figure = (
            f"completed after 3 SIGKILLs; {figures['rounds_stored']} rounds stored once each; "
            f"{figures['repeated_calls']} of {figures['calls']} calls repeated "
            f"(asked but not yet stored at the kills: "
            f"{', '.join(str(k['asked_not_stored']) for k in figures['kills'])})"
        )
    else:
        figure = "test failed: " + done.stdout.strip().splitlines()[-1][:300]
    return [
        {
            "key": "soak",
            "what": f"soak: {samples}-sample task, API process SIGKILLed 3 × and restarted",
            "bar": "finishes, every round stored once; repeated calls reported",
            "figure": figure,
            "passed": passed,
            "details": figures or {"stdout": done.stdout[-3000:]},
        }
    ]


def _plain_loop(stack: Stack, samples: int, rounds: int, slots: int) -> dict[str, float]:
    """bench/plain_loop.py in its own process against the stack's fake LLM."""
    stack.script({"latency": 0.0, "converge_after": 99})
    command = [sys.executable, "-m", "bench.plain_loop", stack.fake.url]
    done = subprocess.run(
        [*command, str(samples), str(rounds), str(slots)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("JSON "))
    result = json.loads(line[5:])
    calls = result["calls"]
    return {
        **result,
        "wall_ms_per_call": result["wall_s"] / calls * 1000,
        "cpu_ms_per_call": result["cpu_s"] / calls * 1000,
    }


def _pg_cpu(stack: Stack) -> float:
    pidfile = stack.dir / "pg" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return cpu_seconds(pid)


# The columns the history document is made of, table by table.
_HISTORY_ROWS = {
    "samples": "sample_index, sample_id, composition, status, converged_at_iteration",
    "predictions": 'sample_index, iteration, "values", created_at',
    "failures": "sample_index, iteration, error_type, message, attempts",
}


def _serialise_rows_directly(stack: Stack, task_id: int) -> float:
    """The history reference (ms): the rows the document is made of, read with psycopg and
    written as JSON by orjson as they come, with no assembly at all."""
    import psycopg

    url = stack.db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        rows = {
            table: connection.execute(
                f"SELECT {columns} FROM {table} WHERE task_id = %s ORDER BY sample_index",
                (task_id,),
            ).fetchall()
            for table, columns in _HISTORY_ROWS.items()
        }
        orjson.dumps(rows)
        return (time.perf_counter() - started) * 1000


def _task_row(name: str, samples: int, status: str, rounds: int) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "llm_provider": "openai",
        "llm_model": "fake-model",
        "temperature": 0.0,
        "max_iterations": rounds,
        "convergence_threshold": 0.01,
        "early_stop": True,
        "max_workers": 5,
        "target_properties": TARGETS,
        "config": {"test_file_path": "none.csv", "reference_file_path": "none.csv"},
        "total_samples": samples,
        "early_stop_reason": "all_samples_converged" if status == "completed" else None,
    }


def _insert_tasks(stack: Stack, count: int, samples_each: int) -> list[int]:
    """`count` finished tasks with `samples_each` converged samples, by direct inserts."""
    from backend.db.models import Sample, Task

    now = datetime.now(UTC)
    with stack.session() as session:
        rows = [
            {**_task_row(f"stored {i}", samples_each, "completed", 5), "completed_at": now}
            for i in range(count)
        ]
        ids = list(session.scalars(insert(Task).returning(Task.id), rows))
        session.execute(
            insert(Sample),
            [
                {
                    "task_id": task_id,
                    "sample_index": k,
                    "sample_id": f"S{k}",
                    "composition": {"Fe(at%)": 25.0, "Ni(at%)": 25.0},
                    "status": "converged",
                    "iterations_done": 3,
                    "converged_at_iteration": 3,
                }
                for task_id in ids
                for k in range(samples_each)
            ],
        )
        session.commit()
    return ids


def _insert_history(stack: Stack, samples: int, rounds: int) -> int:
    """A finished task with `samples` × `rounds` prediction rows, by direct inserts."""
    from backend.db.models import Prediction, Sample, Task

    rng = np.random.default_rng(3)
    with stack.session() as session:
        row = {
            **_task_row("history", samples, "completed", rounds),
            "started_at": datetime.now(UTC),
            "completed_at": datetime.now(UTC),
            "early_stop_reason": "max_iterations_reached",
        }
        (task_id,) = session.scalars(insert(Task).returning(Task.id), [row])
        session.execute(
            insert(Sample),
            [
                {
                    "task_id": task_id,
                    "sample_index": i,
                    "sample_id": f"H-{i}",
                    "composition": {f"El{k}(at%)": 5.0 for k in range(20)},
                    "status": "not_converged",
                    "iterations_done": rounds,
                }
                for i in range(samples)
            ],
        )
        base = rng.uniform(10, 1500, (samples, len(TARGETS)))
        predictions = []
        for i in range(samples):
            for r in range(rounds):
                values = base[i] * (1 + 0.02 * (rounds - r))
                predictions.append(
                    {
                        "task_id": task_id,
                        "sample_index": i,
                        "iteration": r + 1,
                        "values": dict(zip(TARGETS, map(float, values), strict=True)),
                        "raw_response": '{"predictions": {}}',
                        "prompt_tokens": 900,
                        "completion_tokens": 60,
                        "latency_ms": 200.0,
                        "attempts": 1,
                    }
                )
        for start in range(0, len(predictions), 5000):
            session.execute(insert(Prediction), predictions[start : start + 5000])
        session.commit()
    return task_id
