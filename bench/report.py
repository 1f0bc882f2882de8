"""Writes docs/BENCHMARKS.md, docs/bench/results.json and the PNG plots."""

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.scenarios import LOGNORMAL


def _verdict(passed: bool | None) -> str:
    return {True: "**pass**", False: "**FAIL**", None: "reported"}[passed]


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def plot_latency_histogram(series: dict[str, Any], path: Path) -> None:
    runs = series.get("scheduling") or {}
    latencies = [x for run in runs.values() for x in run["latencies"]]
    if not latencies:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(latencies, bins=40, density=True, alpha=0.7, label=f"{len(latencies)} recorded calls")
    mu, sigma = LOGNORMAL["mu"], LOGNORMAL["sigma"]
    xs = [i / 500 * max(latencies) for i in range(1, 501)]
    pdf = [
        math.exp(-((math.log(x) - mu) ** 2) / (2 * sigma**2)) / (x * sigma * math.sqrt(2 * math.pi))
        for x in xs
    ]
    ax.plot(xs, pdf, "k--", label=f"lognormal μ={mu}, σ={sigma}")
    ax.set_xlabel("call latency at the fake LLM (s)")
    ax.set_ylabel("density")
    ax.set_title("Scripted LLM call latency (makespan scenarios)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_makespan(series: dict[str, Any], path: Path) -> None:
    runs = {k: v for k, v in (series.get("scheduling") or {}).items() if v["early_stop"]}
    if not runs:
        return
    names = list(runs)
    bars = [
        ("measured makespan", "makespan_s"),
        ("longest chain", "longest_chain_s"),
        ("total latency / slots", "total_over_slots_s"),
        ("round barrier (simulated)", "barrier_makespan_s"),
    ]
    width = 0.2
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, (label, key) in enumerate(bars):
        xs = [i + (k - 1.5) * width for i in range(len(names))]
        ax.bar(xs, [runs[n][key] for n in names], width, label=label)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n} (samples@max_workers)" for n in names])
    ax.set_ylabel("seconds")
    ax.set_title("Makespan against its lower bounds and a round-barrier design")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_occupancy(series: dict[str, Any], path: Path) -> None:
    runs = {
        k: v
        for k, v in (series.get("scheduling") or {}).items()
        if v["early_stop"] and v["max_workers"] < v["samples"]
    }
    if not runs:
        return
    fig, axes = plt.subplots(len(runs), 1, figsize=(8, 3 * len(runs)), squeeze=False)
    for ax, (name, run) in zip(axes[:, 0], runs.items(), strict=True):
        times = [p[0] for p in run["series"]]
        ax.step(times, [p[1] for p in run["series"]], where="post", label="calls in flight")
        ax.step(
            times,
            [p[2] for p in run["series"]],
            where="post",
            alpha=0.6,
            label="in flight + waiting for a slot",
        )
        ax.axhline(run["max_workers"], color="k", linestyle="--", label="max_workers")
        ax.set_title(f"{name}: occupancy while work pending {run['occupancy']:.1%}")
        ax.set_xlabel("seconds since the first call")
        ax.set_ylabel("calls")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rss(series: dict[str, Any], path: Path) -> None:
    samples = series.get("rss") or []
    if not samples:
        return
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([s[0] for s in samples], [s[1] / 2**20 for s in samples])
    ax.axhline(500, color="r", linestyle="--", label="bar (one process)")
    ax.set_xlabel("seconds since the task started")
    ax.set_ylabel("RSS of the gunicorn tree (MB)")
    ax.set_title("API memory during the large task")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_status(series: dict[str, Any], path: Path) -> None:
    runs = ((series.get("status") or {}).get("alone") or {}).get("runs") or []
    if not runs:
        return
    fig, ax = plt.subplots(figsize=(7, 3.5))
    xs = range(len(runs))
    ax.bar([x - 0.2 for x in xs], [r["api"]["rps"] for r in runs], 0.4, label="API (1 worker)")
    ax.bar([x + 0.2 for x in xs], [r["floor"]["rps"] for r in runs], 0.4, label="bare ASGI app")
    for x, r in zip(xs, runs, strict=True):
        ax.annotate(f"{r['ratio']:.0%}", (x - 0.2, r["api"]["rps"]), ha="center", va="bottom")
    ax.set_xticks(list(xs), [f"pair {x + 1}" for x in xs])
    ax.set_ylabel("GET /api/tasks/{id} req/s")
    ax.set_title("Status endpoint vs the bare app, same run (closed loop, wrk)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


PLOTS = {
    "latency_histogram.png": plot_latency_histogram,
    "makespan.png": plot_makespan,
    "slot_occupancy.png": plot_occupancy,
    "rss.png": plot_rss,
    "status.png": plot_status,
}


def write_plots(series: dict[str, Any], directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in PLOTS.items():
        plot(series, directory / name)
        if (directory / name).exists():
            written.append(name)
    return written


def write_markdown(path: Path, meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/` — do not edit by hand. Every figure below comes from one run of",
        "the command shown, against the real stack: an embedded PostgreSQL, the API under",
        "gunicorn with the production settings (`gunicorn.conf.py`), and the scripted",
        "OpenAI-compatible fake LLM (`devstack/fakellm.py`) in its own process. Bars are",
        "those of `DESIGN.md`; a missed bar is shown as FAIL, never tuned away.",
        "",
        f"- **Date**: {meta['date']}",
        f"- **Command**: `{meta['command']}`",
        f"- **Commit**: `{meta['commit']}`",
        f"- **Machine**: {meta['machine']}",
        f"- **Load average** before / after: {meta['load_before']} / {meta['load_after']}"
        " (the machine is shared; figures are what it gave at the time)",
        f"- **Duration**: {meta['duration_s']:.0f} s",
        "",
        "| what | bar | figure | result |",
        "|---|---|---|---|",
    ]
    for r in results:
        figure = str(r["figure"]).replace("|", "\\|")
        lines.append(f"| {r['what']} | {r['bar']} | {figure} | {_verdict(r['passed'])} |")
    errors = meta.get("errors") or {}
    if errors:
        lines += ["", "## Scenarios that did not finish", ""]
        lines += [f"- `{k}`: {v}" for k, v in errors.items()]
    lines += [
        "",
        "## How each figure is measured",
        "",
        "- **Makespan**: the task's `completed_at − started_at` (as stored by the API). Samples",
        "  converge at rounds 2–5 (sample *i* at round 2 + *i* mod 4), `max_iterations` 5, call",
        f"  latency lognormal (μ = {LOGNORMAL['mu']}, σ = {LOGNORMAL['sigma']}, seeded: median "
        f"{math.exp(LOGNORMAL['mu']):.1f} s, as fast as real providers answer these prompts; the",
        "  service's CPU between rounds is judged on its own, under *Orchestration overhead*;",
        "  until Dec 2026 the median was 0.2 s, where that CPU moved these ratios with the",
        "  machine's speed). The *longest chain* is the largest",
        "  per-sample sum of its calls' latencies as the fake server recorded them;",
        "  *total / slots* is the sum of all latencies over `max_workers`; the lower bound is the",
        "  larger of the two. The *round barrier* figure replays the same recorded latencies",
        "  through a design where round *k* starts only when every call of round *k − 1* ended",
        "  (calls of one round share the slots greedily). `max_workers` is capped at 20 by the",
        "  API, so the ≥-samples case runs 20 samples; the 32-sample runs judge occupancy.",
        "- **Slot occupancy**: from the fake server's call log. A sample's next call is *wanted*",
        "  from the moment its previous call ended (so orchestration time between rounds counts",
        "  against the service); work is *pending* while wanted + in-flight calls ≥",
        "  `max_workers`. Occupancy = time-averaged in-flight calls / `max_workers` over the",
        "  pending time.",
        "- **Orchestration overhead**: wall time of a task with a zero-latency fake LLM divided",
        "  by its predictions (`early_stop` off, so every sample does every round;",
        "  `max_workers` 20). The CPU split (API workers, PostgreSQL, fake LLM) is from psutil;",
        "  the same task with the `baseline` provider shows the cost without litellm and HTTP.",
        "  The reference, `bench/plain_loop.py` in its own process right after: the same number of",
        "  calls to the same fake LLM through litellm (the service's call arguments and prompts),",
        "  each sample's rounds in order, 20 at once, and nothing else. Judged: the API's CPU per",
        "  prediction over the loop's CPU per call.",
        "- **Status vs the bare app**: 1 000 finished tasks (20 samples each) inserted directly.",
        "  One API worker (gunicorn.conf.py, production settings, an API token as bearer) and",
        "  `bench/floor.py` (a bare ASGI app reading the same row with psycopg, under the same",
        "  gunicorn configuration) are loaded in turn by wrk (`bench/status.lua`, 32 connections,",
        "  random task ids); the ratio of their req/s is judged, pair by pair, on the median.",
        "- **Status under load**: the 2-worker deployment while a 1 000-sample task runs (0.2 s",
        "  calls, 20 in flight): 100 wrk connections each pausing 0.5–1.5 s between requests",
        "  (about 100 req/s), latency at the client; then the closed loop (32 connections).",
        "- **History**: a task with 2 000 samples × 10 rounds × 3 targets inserted directly;",
        "  five timed GETs of the whole document after one warm-up, each followed by the",
        "  reference: the same rows read with psycopg and serialised by orjson, no assembly.",
        "- **Memory**: peak RSS (psutil, every 0.1 s) of each gunicorn process while a",
        "  10 000-sample task runs to completion; the bar is judged on the worker running it.",
        "- **Early stop**: calls made with per-sample early stop against samples ×",
        "  `max_iterations` (and, measured, the same task with `early_stop` off).",
        "- **Baseline accuracy**: the service's own reproducible MPEA split",
        "  (`backend/services/demo.py`, seed 42, 80/20), the `baseline` provider through the API,",
        "  MAE of its final predictions against the held-out measurements, next to predicting the",
        "  reference mean.",
        "",
        "Raw results: [`bench/results.json`](bench/results.json). Plots:",
        "",
    ]
    for name in meta.get("plots", []):
        lines.append(f"![{name}](bench/{name})")
        lines.append("")
    lines += [
        "Data: the MPEA data set, Citrine Informatics, doi:10.6084/m9.figshare.12642953,",
        "Apache License 2.0 (see `backend/demo_data/mpea/README.md`).",
        "",
    ]
    path.write_text("\n".join(lines))
