"""Convergence statistics (API.md endpoint 5) and accuracy against known values."""

import math
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.vocabulary import SampleStatus
from backend.db.models import Prediction, Sample, Task
from backend.services.intervals import coverage, intervals_for

FAST_MAX, MEDIUM_MAX = 2, 4  # fast ≤ 2, medium 3–4, slow ≥ 5


def convergence_stats(session: Session, task: Task) -> dict[str, Any]:
    rounds = [
        r
        for r in session.scalars(
            select(Sample.converged_at_iteration).where(
                Sample.task_id == task.id,
                Sample.status == SampleStatus.CONVERGED,
                Sample.calibration.is_(False),
            )
        )
        if r is not None
    ]
    converged = len(rounds)
    return {
        "task_id": task.id,
        "total_samples": task.total_samples,
        "converged_samples": converged,
        "convergence_rate": round(converged / task.total_samples, 4) if task.total_samples else 0.0,
        "average_convergence_iteration": round(sum(rounds) / converged, 4) if converged else 0,
        "fastest_convergence_iteration": min(rounds, default=0),
        "slowest_convergence_iteration": max(rounds, default=0),
        "samples_by_convergence_speed": {
            "fast": sum(1 for r in rounds if r <= FAST_MAX),
            "medium": sum(1 for r in rounds if FAST_MAX < r <= MEDIUM_MAX),
            "slow": sum(1 for r in rounds if r > MEDIUM_MAX),
        },
    }


def scores(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """MAE, RMSE and R² of (predicted, measured) pairs; R² is null when it is undefined."""
    n = len(pairs)
    if not n:
        return {"n": 0, "mae": None, "rmse": None, "r2": None}
    errors = [p - m for p, m in pairs]
    mean = sum(m for _, m in pairs) / n
    total = sum((m - mean) ** 2 for _, m in pairs)
    residual = sum(e * e for e in errors)
    return {
        "n": n,
        "mae": sum(abs(e) for e in errors) / n,
        "rmse": math.sqrt(residual / n),
        "r2": 1 - residual / total if total > 0 else None,
    }


def accuracy(session: Session, task: Task) -> dict[str, Any]:
    samples = session.execute(
        select(Sample.sample_index, Sample.sample_id, Sample.truth).where(
            Sample.task_id == task.id,
            Sample.truth.is_not(None),
            Sample.calibration.is_(False),  # their truth calibrates; it does not score
        )
    ).all()
    # A JSON null (no known values) is not SQL NULL: keep only samples with values.
    truth = {s.sample_index: s.truth for s in samples if s.truth}
    result: dict[str, Any] = {
        "task_id": task.id,
        "has_ground_truth": bool(truth),
        "targets": {},
        "scatter": {},
        "interval_coverage": {},
    }
    if not truth:
        return result
    ids = {s.sample_index: s.sample_id for s in samples}
    history: dict[int, list[dict[str, float]]] = defaultdict(list)
    for index, values in session.execute(
        select(Prediction.sample_index, Prediction.values)
        .where(Prediction.task_id == task.id, Prediction.sample_index.in_(list(truth)))
        .order_by(Prediction.sample_index, Prediction.iteration)
    ):
        history[index].append(values)
    for target in task.target_properties:
        known = {i: t[target] for i, t in truth.items() if t.get(target) is not None}
        if not known:
            continue
        by_round: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for index, rounds in history.items():
            if index in known:
                for n, values in enumerate(rounds, start=1):
                    by_round[n].append((values[target], known[index]))
        finals = [(history[i][-1][target], m) for i, m in known.items() if history.get(i)]
        first, final = scores(by_round.get(1, [])), scores(finals)
        improved = None
        if first["mae"] is not None and final["mae"] is not None and len(by_round) > 1:
            improved = final["mae"] < first["mae"]
        result["targets"][target] = {
            "rounds": [{"iteration": n, **scores(p)} for n, p in sorted(by_round.items())],
            "first": first,
            "final": final,
            "improved": improved,
        }
        points = [
            {
                "sample_index": i,
                "sample_id": ids[i],
                "predicted": history[i][-1][target],
                "measured": m,
                **_bounds(task.calibration, history[i][-1], target),
            }
            for i, m in sorted(known.items())
            if history.get(i)
        ]
        result["scatter"][target] = points
        inside = [p for p in points if p.get("lower") is not None]
        result["interval_coverage"][target] = coverage(inside, [p["measured"] for p in inside])
    return result


def _bounds(calibration: Any, final: dict[str, float], target: str) -> dict[str, float]:
    interval = intervals_for(calibration, final).get(target)
    return {"lower": interval["lower"], "upper": interval["upper"]} if interval else {}
