"""Pure functions over the fake LLM's call log: chains, lower bounds, the round-barrier makespan
simulated from the same latencies, and call-slot occupancy.

A call is a dict with `sample_id`, `round`, `attempt`, `started`, `ended` (monotonic seconds of
the fake server)."""

import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

Call = dict[str, Any]


def duration(call: Call) -> float:
    return max(call["ended"] - call["started"], 0.0)


def per_sample_round(calls: Iterable[Call]) -> dict[str, dict[int, float]]:
    """Latency a sample spent on each round (the sum of its attempts at that round)."""
    out: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for call in calls:
        out[call["sample_id"]][call["round"]] += duration(call)
    return {s: dict(r) for s, r in out.items()}


def longest_chain(calls: Sequence[Call]) -> float:
    """The longest per-sample sum of call latencies: no schedule can finish sooner."""
    rounds = per_sample_round(calls)
    return max((sum(r.values()) for r in rounds.values()), default=0.0)


def total_latency(calls: Sequence[Call]) -> float:
    return sum(duration(c) for c in calls)


def lower_bound(calls: Sequence[Call], slots: int) -> float:
    return max(longest_chain(calls), total_latency(calls) / slots)


def _list_schedule(jobs: Sequence[float], slots: int, start: float = 0.0) -> float:
    """Greedy: each job, in order, on the slot free first; returns when the last one ends."""
    free = [start] * min(slots, max(len(jobs), 1))
    heapq.heapify(free)
    end = start
    for job in jobs:
        begin = heapq.heappop(free)
        finish = begin + job
        end = max(end, finish)
        heapq.heappush(free, finish)
    return end


def barrier_makespan(calls: Sequence[Call], slots: int) -> float:
    """What a round-barrier design would take with these latencies: round k starts when every
    call of round k−1 has ended; inside a round, calls share `slots` slots greedily."""
    rounds = per_sample_round(calls)
    by_round: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for sample, per_round in rounds.items():
        for number, latency in per_round.items():
            by_round[number].append((sample, latency))
    clock = 0.0
    for number in sorted(by_round):
        jobs = [latency for _, latency in sorted(by_round[number])]
        clock = _list_schedule(jobs, slots, clock)
    return clock


def free_flow_makespan(calls: Sequence[Call], slots: int) -> float:
    """The same latencies with no barrier and zero orchestration cost: each sample's next round
    is ready the moment its previous one ends; ready calls take free slots first come first."""
    rounds = per_sample_round(calls)
    chains = {s: [r[k] for k in sorted(r)] for s, r in rounds.items()}
    ready = [(0.0, sample, 0) for sample in sorted(chains)]
    heapq.heapify(ready)
    free = [0.0] * slots
    end = 0.0
    while ready:
        at, sample, step = heapq.heappop(ready)
        slot_free = heapq.heappop(free)
        begin = max(at, slot_free)
        finish = begin + chains[sample][step]
        heapq.heappush(free, finish)
        end = max(end, finish)
        if step + 1 < len(chains[sample]):
            heapq.heappush(ready, (finish, sample, step + 1))
    return end


def occupancy(calls: Sequence[Call], slots: int) -> dict[str, Any]:
    """Busy slots / `slots` over the time when work is pending.

    A call is *wanted* from the moment its sample's previous call ended (its first call: from the
    first call of the task) until it starts, and *in flight* from start to end. Work is pending
    while wanted + in flight ≥ `slots`, i.e. while every slot could be busy. Orchestration time
    between a sample's rounds therefore counts against occupancy, as it should."""
    if not calls:
        return {"occupancy": None, "pending_seconds": 0.0, "series": []}
    ordered = sorted(calls, key=lambda c: (c["sample_id"], c["round"], c["attempt"], c["started"]))
    first = min(c["started"] for c in calls)
    events: list[tuple[float, int, int]] = []  # (time, Δwanted, Δin_flight)
    previous: dict[str, float] = {}
    for call in ordered:
        ready = previous.get(call["sample_id"], first)
        ready = min(ready, call["started"])
        events += [(ready, 1, 0), (call["started"], -1, 1), (call["ended"], 0, -1)]
        previous[call["sample_id"]] = call["ended"]
    events.sort()
    wanted = in_flight = 0
    pending = busy = 0.0
    series: list[tuple[float, int, int]] = []
    last = first
    for at, d_wanted, d_flight in events:
        if at > last and wanted + in_flight >= slots:
            pending += at - last
            busy += min(in_flight, slots) * (at - last)
        wanted += d_wanted
        in_flight += d_flight
        last = max(last, at)
        series.append((at - first, in_flight, wanted + in_flight))
    return {
        "occupancy": busy / (slots * pending) if pending else None,
        "pending_seconds": pending,
        "series": series,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def repeated_calls(calls: Iterable[Call]) -> int:
    """Calls that asked a (sample, round) already asked before (first attempts only count once)."""
    seen: dict[tuple[str, int], int] = defaultdict(int)
    for call in calls:
        seen[(call["sample_id"], call["round"])] += 1
    return sum(n - 1 for n in seen.values() if n > 1)


def round_gaps(calls: Sequence[Call]) -> list[float]:
    """Per sample, the time from the end of one call to the start of its next one: what the
    service spends between a sample's rounds (parse, store, render, wait for a slot)."""
    by_sample: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_sample[call["sample_id"]].append(call)
    gaps = []
    for sample_calls in by_sample.values():
        sample_calls.sort(key=lambda c: c["started"])
        gaps += [b["started"] - a["ended"] for a, b in itertools.pairwise(sample_calls)]
    return gaps


def median_run(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose `key` is the median (of an odd number of runs)."""
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def without_series(run: dict[str, Any]) -> dict[str, Any]:
    """A makespan run without its long per-call lists (for a result's details)."""
    return {k: v for k, v in run.items() if k not in ("series", "latencies")}


def repeated_details(judged: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A repeated makespan's details: the judged run, and every run."""
    return {**without_series(judged), "runs": [without_series(r) for r in runs]}
