"""A task's results as a file: one row per sample (`final`) or per sample and round (`rounds`).

CSV cells are formula-safe (backend/services/csv_export.py); JSON carries values as they are.
"""

from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import Prediction, Sample, Task
from backend.services.csv_export import csv_lines
from backend.services.intervals import intervals_for

Format = Literal["csv", "json"]
Layout = Literal["final", "rounds"]


def _sample_status(status: str, converged_at: int | None) -> str:
    if status in ("pending", "running", "failed"):
        return status
    return "converged" if converged_at is not None else "not_converged"


def rows(session: Session, task: Task, layout: Layout) -> tuple[list[str], list[dict[str, Any]]]:
    targets = list(task.target_properties)
    samples = session.execute(
        select(Sample.sample_index, Sample.sample_id, Sample.status, Sample.converged_at_iteration)
        .where(Sample.task_id == task.id, Sample.calibration.is_(False))
        .order_by(Sample.sample_index)
    ).all()
    tests_only = (
        # Calibration samples follow the test samples (Sample.calibration): not exported.
        [Prediction.sample_index < task.total_samples] if task.calibration_samples else []
    )
    predictions = session.execute(
        select(Prediction.sample_index, Prediction.iteration, Prediction.values)
        .where(Prediction.task_id == task.id, *tests_only)
        .order_by(Prediction.sample_index, Prediction.iteration)
    ).all()
    if layout == "rounds":
        ids = {s.sample_index: s.sample_id for s in samples}
        columns = ["sample_index", "sample_id", "iteration", *targets]
        return columns, [
            {
                "sample_index": p.sample_index,
                "sample_id": ids[p.sample_index],
                "iteration": p.iteration,
                **{t: p.values.get(t) for t in targets},
            }
            for p in predictions
        ]
    final = {p.sample_index: p.values for p in predictions}  # ordered: the last round wins
    bounds = [f"{t}_{end}" for t in targets for end in ("lower", "upper")]
    columns = ["sample_index", "sample_id", "status", "converged_at_iteration", *targets]
    if task.calibration:
        columns += bounds
    out = []
    for s in samples:
        values = final.get(s.sample_index, {})
        row = {
            "sample_index": s.sample_index,
            "sample_id": s.sample_id,
            "status": _sample_status(s.status, s.converged_at_iteration),
            "converged_at_iteration": s.converged_at_iteration,
            **{t: values.get(t) for t in targets},
        }
        if task.calibration:
            row |= dict.fromkeys(bounds)
            for t, interval in intervals_for(task.calibration, values).items():
                row |= {f"{t}_lower": interval["lower"], f"{t}_upper": interval["upper"]}
        out.append(row)
    return columns, out


def export(session: Session, task: Task, fmt: Format, layout: Layout) -> tuple[bytes, str, str]:
    """(body, media type, file name)."""
    columns, records = rows(session, task, layout)
    name = f"task-{task.id}-{layout}.{fmt}"
    if fmt == "json":
        document = {"task_id": task.id, "layout": layout, "columns": columns, "rows": records}
        return orjson.dumps(document), "application/json", name
    lines = csv_lines([columns, *([r[c] for c in columns] for r in records)])
    return "".join(lines).encode(), "text/csv; charset=utf-8", name
