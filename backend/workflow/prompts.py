"""The one prompt template (Jinja2) for every round; later rounds add the sample's history."""

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from backend.workflow.convergence import relative_changes, trend
from backend.workflow.task_data import TaskData

TEMPLATE_DIR = Path(__file__).parent / "templates"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# Line breaks of every kind Python's splitlines() knows, plus other control characters.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _inline(value: Any) -> Any:
    """Every value printed into the prompt is data on one line: a CSV cell (or column name)
    holding a newline cannot start a section of its own (`## Answer`) or a table row, and a
    `|` cannot open a table column."""
    if not isinstance(value, str):
        return value
    return _BREAKS.sub(" ", value).replace("|", "\\|")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


@lru_cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
        autoescape=False,  # plain text for a model, not HTML
        finalize=_inline,
    )
    env.filters["fmt"] = _fmt
    env.filters["pct"] = _pct
    return env


def _is_blank(value: Any) -> bool:
    return value is None or value == 0 or value == ""


def _informative_columns(
    columns: Sequence[str], sample: Mapping[str, Any], references: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """(shown, omitted): a column that is 0 or empty for the sample and every reference shown
    (an element none of these alloys contains) tells the model nothing; naming it once is enough.
    Wide sparse tables (24 elements, most at 0 at%) otherwise drown the few columns that differ."""
    omitted = [
        c
        for c in columns
        if _is_blank(sample.get(c)) and all(_is_blank(r.get(c)) for r in references)
    ]
    return [c for c in columns if c not in omitted], omitted


def render_prompt(
    data: TaskData,
    position: int,
    history: Sequence[Mapping[str, float]],
    *,
    max_rounds: int,
    threshold: float,
) -> str:
    """Prompt for round len(history)+1 of the sample at `position` in `data.samples`."""
    sample = data.samples[position]
    references = [
        {
            "id": data.reference_ids[ref],
            "cells": data.reference_rows[ref],
            "distance": float(dist),
        }
        for ref, dist in zip(data.neighbours[position], data.distances[position], strict=True)
    ]
    shown, omitted = _informative_columns(
        data.feature_columns, sample.composition, [r["cells"] for r in references]
    )
    changes = {t: relative_changes([h[t] for h in history]) for t in data.targets}
    rows = [
        {
            "round": n + 1,
            "cells": values,
            "changes": {t: changes[t][n] for t in data.targets},
        }
        for n, values in enumerate(history)
    ]
    return (
        _environment()
        .get_template("prediction.j2")
        .render(
            round=len(history) + 1,
            max_rounds=max_rounds,
            targets=data.targets,
            sample_id=sample.sample_id,
            composition={c: sample.composition[c] for c in shown},
            omitted=omitted,
            reference_columns=shown + data.targets,
            references=references,
            history=rows,
            trends={t: trend(changes[t], threshold) for t in data.targets},
            threshold=threshold,
        )
    )
