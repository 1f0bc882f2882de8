"""Calibrated 90 % intervals for final predictions (split-conformal, absolute residuals).

The half-width for a target is the ⌈(n+1)·0.9⌉-th smallest |measured − predicted| over n
calibration rows the predictor did not see as their own neighbour; `prediction ± half-width`
then covers a new sample's measured value with probability ≥ 0.9 when samples are exchangeable
with the calibration rows. The baseline calibrates by leave-one-out over the reference rows
(each predicted from its k nearest *other* references, the same kNN it runs on test samples).
An LLM task calibrates on its calibration samples (`calibration_samples` reference rows, each
predicted like a test sample from its nearest *other* references): when the task completes, their
final predictions against their measured values give the half-widths (`llm_calibration`).
"""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from backend.workflow.knn import knn_weighted
from backend.workflow.retrieval import ReferenceIndex, nearest_others
from backend.workflow.task_data import ReferencePart

LEVEL = 0.9
# Leave-one-out over at most this many reference rows (a seeded subset beyond it): the cost is
# rows × references distances, paid once per task by the worker that first runs it.
MAX_CALIBRATION_ROWS = 2000
SEED = 0


def conformal_half_width(residuals: np.ndarray, level: float = LEVEL) -> float | None:
    """None when there are too few rows for the level (the interval would be unbounded)."""
    n = len(residuals)
    rank = math.ceil((n + 1) * level)
    if n == 0 or rank > n:
        return None
    return float(np.sort(np.abs(residuals))[rank - 1])


def min_calibration_rows(level: float = LEVEL) -> int:
    """The fewest rows with a finite half-width: ⌈(n+1)·level⌉ ≤ n (9 at 90 %)."""
    n = 1
    while math.ceil((n + 1) * level) > n:
        n += 1
    return n


def baseline_calibration(
    index: ReferenceIndex, part: ReferencePart, names: list[str], top_k: int
) -> dict[str, Any] | None:
    features, targets = index.matrix, part.reference_targets
    n = len(features)
    if n < 2:
        return None
    rows = np.arange(n)
    if n > MAX_CALIBRATION_ROWS:
        rows = np.sort(np.random.default_rng(SEED).choice(n, MAX_CALIBRATION_ROWS, replace=False))
    neighbours, distances = nearest_others(features, rows, min(top_k, n - 1))
    residuals = targets[rows] - knn_weighted(targets, neighbours, distances)
    widths = {t: conformal_half_width(residuals[:, i]) for i, t in enumerate(names)}
    return {
        "level": LEVEL,
        "n": len(rows),
        "method": "leave-one-out",
        "source": "baseline_leave_one_out",
        "half_widths": widths,
    }


def llm_calibration(
    targets: list[str],
    finals: list[tuple[Mapping[str, Any], Mapping[str, Any]]],
    requested: int,
) -> dict[str, Any]:
    """Half-widths from the calibration samples' (measured values, final prediction) pairs;
    failed calibration samples are not among `finals`. With fewer than min_calibration_rows()
    usable pairs a target has no half-width (null), and `note` says why."""
    widths: dict[str, float | None] = {}
    for target in targets:
        residuals = [
            float(truth[target]) - float(final[target])
            for truth, final in finals
            if truth.get(target) is not None and final.get(target) is not None
        ]
        widths[target] = conformal_half_width(np.array(residuals, dtype=float))
    calibration: dict[str, Any] = {
        "level": LEVEL,
        "n": len(finals),
        "method": "calibration samples",
        "source": "llm_calibration",
        "requested": requested,
        "half_widths": widths,
    }
    needed = min_calibration_rows()
    if len(finals) < needed:
        calibration["note"] = (
            f"{len(finals)} of {requested} calibration samples have a final prediction (failed "
            f"ones are left out); a {LEVEL:.0%} split-conformal interval needs at least {needed}"
        )
    return calibration


def intervals_for(
    calibration: Mapping[str, Any] | None, final: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    """{TARGET: {lower, upper, level}} around a sample's final prediction, where calibrated."""
    if not calibration or not final:
        return {}
    level = calibration["level"]
    out = {}
    for target, width in calibration["half_widths"].items():
        if width is not None and target in final:
            value = final[target]
            out[target] = {"lower": value - width, "upper": value + width, "level": level}
    return out


def coverage(intervals: list[dict[str, float]], measured: list[float]) -> float | None:
    """Share of measured values inside their interval; None without any pair."""
    if not intervals:
        return None
    inside = sum(i["lower"] <= m <= i["upper"] for i, m in zip(intervals, measured, strict=True))
    return inside / len(intervals)
