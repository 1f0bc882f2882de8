"""The iteration-history document of API.md, assembled on read from prediction rows.

Two reads make the samples: one row per sample (its composition and errors arrive as JSON text
and are passed through to the answer unparsed, as `orjson.Fragment`s), and every stored round of
those samples in order. The rounds are parsed in one piece and their relative changes and
convergence computed for all samples and targets at once with numpy (the same arithmetic as
`backend/workflow/convergence.py`, which a test holds it to); Python only slices the results into
each sample's lists. Per-round summaries come as aggregates.

Pages (`limit`/`offset` over samples, in sample order) keep large tasks cheap; the live view
asks only for what changed with `since`, the `cursor` of its previous answer."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
from psycopg.rows import namedtuple_row
from sqlalchemy.orm import Session

from backend.core.errors import HistoryNotFound, NotFound, PageRequired
from backend.core.vocabulary import ConvergenceStatus, EarlyStopReason, SampleStatus
from backend.db.models import Task
from backend.schemas import MAX_ID
from backend.services.intervals import intervals_for
from backend.workflow.convergence import DENOMINATOR_FLOOR

# A round is stored in a short transaction that may commit a moment after a reader's snapshot:
# `since` looks back this far before the cursor, so such a row is sent (again) rather than missed.
SINCE_OVERLAP = timedelta(seconds=10)

_SAMPLES = """
SELECT s.sample_index, s.sample_id, s.composition::text AS composition, s.status,
       s.converged_at_iteration, coalesce(f.errors::text, '[]') AS errors,
       coalesce(f.iterations::text, '[]') AS failed_iterations
FROM samples s
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('iteration', f.iteration, 'error_type', f.error_type,
                                      'message', f.message, 'attempts', f.attempts)
                    ORDER BY f.id) AS errors,
           json_agg(DISTINCT f.iteration ORDER BY f.iteration) AS iterations
    FROM failures f WHERE f.task_id = s.task_id AND f.sample_index = s.sample_index
) f ON TRUE
WHERE s.task_id = %(task)s AND NOT s.calibration {where}
ORDER BY s.sample_index
{page}
"""
# The rounds of the chosen samples, in sample then iteration order, as one row: their sample
# indices and their values as one JSON array (parsed in one call).
_VALUES = """
SELECT coalesce(array_agg(sample_index), '{{}}'), coalesce('[' || string_agg(v, ',') || ']', '[]')
FROM (
    SELECT p.sample_index, p."values"::text AS v FROM predictions p
    WHERE p.task_id = %(task)s AND p.sample_index {chosen}
    ORDER BY p.sample_index, p.iteration
) r
"""
# A page, one sample or all of them: a run of consecutive samples (calibration samples follow the
# test samples). The changed ones: any set.
_RUN = "BETWEEN %(first)s AND %(last)s {tests}"
_SET = "IN (SELECT unnest(%(chosen)s::int[]))"
# Samples with a round or a failure stored at or after %(since)s.
_CHANGED = """
AND s.sample_index IN (
    SELECT sample_index FROM predictions WHERE task_id = %(task)s AND created_at >= %(since)s
    UNION
    SELECT sample_index FROM failures WHERE task_id = %(task)s AND created_at >= %(since)s
)
"""
_ROUNDS = """
SELECT iteration, max(created_at) AS landed, count(*) AS processed
FROM predictions WHERE task_id = %(task)s {only} {tests} GROUP BY iteration
"""
_FAILED = """
SELECT iteration, count(*) FROM failures WHERE task_id = %(task)s {only} {tests} GROUP BY 1
"""
_CONVERGED = """
SELECT converged_at_iteration, count(*) FROM samples
WHERE task_id = %(task)s AND converged_at_iteration IS NOT NULL AND NOT calibration {only}
GROUP BY 1
"""
_COUNTS = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = '{SampleStatus.CONVERGED}') AS converged,
       count(*) FILTER (WHERE status = '{SampleStatus.FAILED}') AS failed,
       (SELECT max(iteration) FROM predictions WHERE task_id = %(task)s {{tests}})
           AS total_iterations,
       EXISTS (SELECT FROM predictions WHERE task_id = %(task)s {{tests}})
       OR EXISTS (SELECT FROM failures WHERE task_id = %(task)s {{tests}}) AS has_results,
       now() AS now
FROM samples WHERE task_id = %(task)s AND NOT calibration
"""
# A task's calibration samples follow its test samples (sample_index >= total_samples): rounds
# and failures of test samples only, without a join.
_TESTS = "AND sample_index < %(tests)s"


def _tests_only(task: Task) -> str:
    return _TESTS if task.calibration_samples else ""


@dataclass(frozen=True)
class Selection:
    """Which samples an answer holds: one, a page, the changed ones, or all."""

    sample_index: int | None = None
    limit: int | None = None
    offset: int = 0
    since: datetime | None = None


def _sample_status(sample: Any) -> str:
    if sample.status == SampleStatus.FAILED:
        return ConvergenceStatus.FAILED
    if sample.converged_at_iteration is not None:
        return ConvergenceStatus.CONVERGED
    return ConvergenceStatus.NOT_CONVERGED


class _Rounds:
    """Every stored round of the chosen samples, with each target's relative changes and
    convergence computed for all samples at once."""

    def __init__(self, indices: list[int], values: str, targets: list[str], threshold: float):
        n = len(indices)
        self.values: list[dict[str, float]] = orjson.loads(values)
        # Per target, its value in every round, as stored.
        iterations = [list(map(itemgetter(t), self.values)) for t in targets]
        x = np.array(iterations, dtype=float).reshape(len(targets), n)
        index = np.array(indices, dtype=np.int64)
        first = np.ones(n, dtype=bool)  # a sample's first round: no change
        first[1:] = index[1:] != index[:-1]
        starts = np.flatnonzero(first)
        ends = np.append(starts[1:], n) if n else starts
        # relative_change(): |current − previous| / max(|previous|, floor), IEEE for IEEE.
        previous = np.roll(x, 1, axis=1)
        change = np.abs(x - previous) / np.maximum(np.abs(previous), DENOMINATOR_FLOOR)
        change[:, first] = np.nan
        # A target has converged since the round after its last open one (no change, or one
        # not below the threshold: is_converged()), if that is not past its latest round.
        position = np.arange(1, n + 1) - np.repeat(starts, ends - starts)
        open_ = ~(change < threshold)
        last_open = (
            np.maximum.reduceat(np.where(open_, position, 0), starts, axis=1)
            if n
            else np.empty((len(targets), 0), dtype=np.int64)
        )
        changes: list[list[float | None]] = change.tolist()
        starts_list = starts.tolist()
        for column in changes:
            for start in starts_list:
                column[start] = None
        # Per target: its name, its value and its relative change in every round.
        self.columns = list(zip(targets, iterations, changes, strict=True))
        self.spans: dict[int, tuple[int, int, list[int]]] = {
            sample: (start, end, opened)
            for sample, start, end, opened in zip(
                index[starts].tolist(),
                starts_list,
                ends.tolist(),
                last_open.T.tolist(),
                strict=True,
            )
        }


def _rounds_of(raw: Any, task: Task, samples: list[Any], changed: bool) -> tuple[list[int], str]:
    chosen = [s.sample_index for s in samples]
    params: dict[str, Any] = {"task": task.id, "tests": task.total_samples, "chosen": chosen}
    if changed:
        where = _SET
    else:
        where = _RUN.format(tests=_tests_only(task))
        params |= {"first": chosen[0] if chosen else 0, "last": chosen[-1] if chosen else -1}
    indices, values = raw.execute(_VALUES.format(chosen=where), params).fetchone()
    return indices, values


_CONVERGED_TARGET, _OPEN_TARGET = ConvergenceStatus.CONVERGED, ConvergenceStatus.NOT_CONVERGED


def _sample_document(
    sample: Any, rounds: _Rounds, targets: list[str], calibration: dict | None
) -> dict[str, Any]:
    converged_at = sample.converged_at_iteration
    start, end, last_open = rounds.spans.get(sample.sample_index) or (0, 0, [0] * len(targets))
    count = end - start
    final = rounds.values[end - 1] if count else {}
    return {
        "sample_index": sample.sample_index,
        "sample_id": sample.sample_id,
        "composition": orjson.Fragment(sample.composition),
        "convergence_status": _sample_status(sample),
        "converged_at_iteration": converged_at,
        "targets": {
            target: {
                "iterations": values[start:end],
                "relative_changes": changes[start:end],
                "convergence_status": _CONVERGED_TARGET if opened < count else _OPEN_TARGET,
                "converged_at_iteration": converged_at or (opened + 1 if opened < count else None),
            }
            for (target, values, changes), opened in zip(rounds.columns, last_open, strict=True)
        },
        "final_predictions": final,
        "intervals": intervals_for(calibration, final),
        "failed_iterations": orjson.Fragment(sample.failed_iterations),
        "errors": orjson.Fragment(sample.errors),
    }


def _summaries(cursor: Any, task: Task, params: dict[str, Any], only: str) -> list[dict]:
    """Per round: when its last prediction landed, how long since the previous round's last."""
    tests = _tests_only(task)
    landed = {
        r.iteration: r
        for r in cursor.execute(_ROUNDS.format(only=only, tests=tests), params).fetchall()
    }
    failed = dict(cursor.execute(_FAILED.format(only=only, tests=tests), params).fetchall())
    converged = dict(cursor.execute(_CONVERGED.format(only=only), params).fetchall())
    previous_end = task.started_at or task.created_at
    out = []
    for n in sorted(set(landed) | set(failed)):
        end = landed[n].landed if n in landed else None
        duration = (end - previous_end).total_seconds() if end and previous_end else None
        out.append(
            {
                "iteration": n,
                "timestamp": end,
                "duration_seconds": max(duration, 0.0) if duration is not None else None,
                "processed_samples": landed[n].processed if n in landed else 0,
                "failed_samples": failed.get(n, 0),
                "newly_converged": converged.get(n, 0),
            }
        )
        previous_end = end or previous_end
    return out


def iteration_history(
    session: Session, task: Task, selection: Selection, max_unpaged: int
) -> dict[str, Any]:
    """The document for `selection`; with a page it carries `page`, always a `cursor` (pass it
    back as `since` to get only the samples that changed after this answer). Parts of it are
    JSON text already (`orjson.Fragment`): write it with `task_views.to_json`."""
    one = selection.sample_index
    # (A retried task keeps the original indices, so only the database's range is checked here.)
    if one is not None and not 0 <= one <= MAX_ID:
        raise NotFound(f"task {task.id} has no sample_index {one}")
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor(row_factory=namedtuple_row)
    params: dict[str, Any] = {"task": task.id, "one": one, "tests": task.total_samples}
    counts = cursor.execute(_COUNTS.format(tests=_tests_only(task)), params).fetchone()
    paged = selection.limit is not None
    if one is None and not paged and selection.since is None and counts.total > max_unpaged:
        raise PageRequired(
            f"task {task.id} has {counts.total} samples: ask for a page "
            f"(limit ≤ {max_unpaged} and offset), or for one sample_index"
        )
    where, page = "", ""
    if one is not None:
        where = "AND s.sample_index = %(one)s"
    elif selection.since is not None:
        where = _CHANGED
        params["since"] = selection.since - SINCE_OVERLAP
    if paged:
        page = "LIMIT %(limit)s OFFSET %(offset)s"
        params |= {"limit": selection.limit, "offset": selection.offset}
    samples = cursor.execute(_SAMPLES.format(where=where, page=page), params).fetchall()
    if one is not None and not samples:
        raise NotFound(f"task {task.id} has no sample_index {one}")
    if not counts.has_results:
        raise HistoryNotFound(f"task {task.id} has no prediction yet")
    only = "AND sample_index = %(one)s" if one is not None else ""
    targets = task.target_properties
    rounds = _Rounds(
        *_rounds_of(raw, task, samples, changed=selection.since is not None),
        targets,
        task.convergence_threshold,
    )
    calibration = task.calibration
    document: dict[str, Any] = {
        "global_info": _global_info(task, counts),
        "samples": {
            f"sample_{s.sample_index}": _sample_document(s, rounds, targets, calibration)
            for s in samples
        },
        "iteration_summaries": _summaries(cursor, task, params, only),
        "cursor": counts.now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if paged:
        document["page"] = {
            "limit": selection.limit,
            "offset": selection.offset,
            "total": counts.total,
        }
    return document


def _global_info(task: Task, counts: Any) -> dict[str, Any]:
    end = task.completed_at
    duration = (end - task.created_at).total_seconds() if end else None
    reason = task.early_stop_reason
    return {
        "task_id": task.id,
        "total_iterations": counts.total_iterations or 0,
        "max_iterations": task.max_iterations,
        "convergence_threshold": task.convergence_threshold,
        "early_stopped": reason
        in (EarlyStopReason.ALL_SAMPLES_CONVERGED, EarlyStopReason.CANCELLED),
        "early_stop_reason": reason,
        "total_samples": task.total_samples,
        "converged_samples": counts.converged,
        "failed_samples": counts.failed,
        "created_at": task.created_at,
        "completed_at": end,
        "total_duration_seconds": duration,
    }
