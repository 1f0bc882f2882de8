"""A task's results as a file: one row per sample (`final`) or per sample and round (`rounds`).

CSV cells are formula-safe: a spreadsheet would run a text cell beginning with = + - @ (or a
tab or carriage return before one), so such cells get a leading `'`; numbers stay numbers.
"""

import csv
import io
from collections.abc import Iterable
from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import Prediction, Sample, Task
from backend.services.intervals import intervals_for

Format = Literal["csv", "json"]
Layout = Literal["final", "rounds"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'`; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _sample_status(status: str, converged_at: int | None) -> str:
    if status in ("pending", "running", "failed"):
        return status
    return "converged" if converged_at is not None else "not_converged"


def rows(session: Session, task: Task, layout: Layout) -> tuple[list[str], list[dict[str, Any]]]:
    targets = list(task.target_properties)
    samples = session.execute(
        select(Sample.sample_index, Sample.sample_id, Sample.status, Sample.converged_at_iteration)
        .where(Sample.task_id == task.id)
        .order_by(Sample.sample_index)
    ).all()
    predictions = session.execute(
        select(Prediction.sample_index, Prediction.iteration, Prediction.values)
        .where(Prediction.task_id == task.id)
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


def to_csv(columns: list[str], records: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([formula_safe(c) for c in columns])
    for record in records:
        writer.writerow(["" if record[c] is None else formula_safe(record[c]) for c in columns])
    return buffer.getvalue().encode()


def export(session: Session, task: Task, fmt: Format, layout: Layout) -> tuple[bytes, str, str]:
    """(body, media type, file name)."""
    columns, records = rows(session, task, layout)
    name = f"task-{task.id}-{layout}.{fmt}"
    if fmt == "json":
        document = {"task_id": task.id, "layout": layout, "columns": columns, "rows": records}
        return orjson.dumps(document), "application/json", name
    return to_csv(columns, records), "text/csv; charset=utf-8", name
