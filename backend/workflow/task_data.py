"""A task's two tables: checked at start (`check_tables`, no retrieval), then retrieved
against per batch by the worker that first runs its samples (`retrieve`), stored, never again.

Target columns found in the test file are ground truth: they go to `truth` and nowhere else,
never into features, retrieval, `composition` or a prompt.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backend.workflow.answers import plausible_bounds
from backend.workflow.retrieval import ReferenceIndex, nearest_others, split_feature_kinds
from backend.workflow.suggest import did_you_mean

ID_COLUMN_CANDIDATES = ("ID", "id", "sample_id")
RECORDS_SLICE = 5000


class TaskDataError(ValueError):
    """The files do not fit the requested configuration; the message names what is wrong."""


@dataclass
class SampleInput:
    index: int
    sample_id: str
    composition: dict[str, Any]
    truth: dict[str, float] | None


@dataclass
class TaskData:
    targets: list[str]
    feature_columns: list[str]
    samples: list[SampleInput]
    # Reference rows as shown to the model: features then targets.
    reference_rows: list[dict[str, Any]]
    reference_ids: list[str]
    neighbours: np.ndarray  # (samples, k) reference row indices, nearest first
    distances: np.ndarray
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference_targets: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def find_id_column(frame: pd.DataFrame, requested: str | None) -> str | None:
    if requested:
        if requested not in frame.columns:
            hint = did_you_mean([requested], frame.columns)
            raise TaskDataError(f"id_column: {requested!r} is not a column of the test file{hint}")
        return requested
    return next((c for c in ID_COLUMN_CANDIDATES if c in frame.columns), None)


def _feature_columns(
    test: pd.DataFrame,
    reference: pd.DataFrame,
    targets: list[str],
    id_columns: set[str],
    requested: list[str] | None,
) -> list[str]:
    excluded = set(targets) | id_columns
    if requested:
        bad = [c for c in requested if c in excluded]
        if bad:
            raise TaskDataError(f"feature_columns: {bad} are target or ID columns")
        for name, frame in (("test", test), ("reference", reference)):
            missing = [c for c in requested if c not in frame.columns]
            if missing:
                hint = did_you_mean(missing, frame.columns)
                raise TaskDataError(f"feature_columns: {missing} not in the {name} file{hint}")
        return list(requested)
    columns = [c for c in test.columns if c not in excluded and c in reference.columns]
    if not columns:
        raise TaskDataError("the test and reference files share no input column")
    return columns


def _clean_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


@dataclass
class CheckedTables:
    """A task's two tables, checked against its configuration: its samples' inputs and the
    reference part every batch shares. Nothing is retrieved yet (see `ReferenceIndex`)."""

    targets: list[str]
    feature_columns: list[str]
    # The feature columns retrieval compares (free-text columns are in neither).
    numeric: list[str]
    categorical: list[str]
    samples: list[SampleInput]
    part: "ReferencePart"

    def index(self) -> ReferenceIndex:
        return self.part.index(self.numeric, self.categorical)


def check_tables(
    test: pd.DataFrame,
    reference: pd.DataFrame,
    targets: list[str],
    *,
    feature_columns: list[str] | None = None,
    id_column: str | None = None,
) -> CheckedTables:
    """Every check of the two tables against the configuration (TaskDataError names what is
    wrong), and the samples' inputs; no retrieval."""
    missing = [t for t in targets if t not in reference.columns]
    if missing:
        hint = did_you_mean(missing, reference.columns)
        raise TaskDataError(f"target_properties: {missing} not columns of the reference file{hint}")
    for target in targets:
        if not pd.api.types.is_numeric_dtype(reference[target]):
            raise TaskDataError(f"target_properties: {target!r} is not numeric in the reference")
    reference = reference.dropna(subset=targets).reset_index(drop=True)
    if reference.empty:
        raise TaskDataError("the reference file has no row with every target known")
    if test.empty:
        raise TaskDataError("the test file has no rows")

    test_id = find_id_column(test, id_column)
    ref_id = find_id_column(reference, id_column if id_column in reference.columns else None)
    id_columns = {c for c in (test_id, ref_id) if c}
    features = _feature_columns(test, reference, targets, id_columns, feature_columns)
    numeric, categorical = split_feature_kinds(reference, features)
    numeric = [c for c in numeric if pd.api.types.is_numeric_dtype(test[c])]
    if not numeric and not categorical:
        raise TaskDataError("no numeric or categorical input column to compare samples by")

    truth_columns = [t for t in targets if t in test.columns]
    samples = []
    kept = list(dict.fromkeys([*([test_id] if test_id else []), *features, *truth_columns]))
    for position, row in _records(test[kept]):
        truth = None
        if truth_columns:
            known = {t: _clean_value(row[t]) for t in truth_columns}
            truth = {t: float(v) for t, v in known.items() if isinstance(v, int | float)} or None
        sample_id = str(row[test_id]) if test_id else f"Sample_{position + 1:03d}"
        composition = {c: _clean_value(row[c]) for c in features}
        samples.append(SampleInput(position, sample_id, composition, truth))
    part = reference_part(reference, targets, features, ref_id)
    return CheckedTables(targets, features, numeric, categorical, samples, part)


def _records(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, row as a dict), a slice of rows at a time: a 100 000-row file is never all
    dicts at once."""
    for first in range(0, len(frame), RECORDS_SLICE):
        rows = frame.iloc[first : first + RECORDS_SLICE].to_dict("records")
        yield from enumerate(rows, start=first)


def composition_frame(samples: list[SampleInput], features: list[str]) -> pd.DataFrame:
    """Samples' inputs as retrieval encodes them: from what is stored (a missing value is None
    there), so a batch retrieves exactly what the test file itself would give."""
    return pd.DataFrame.from_records([s.composition for s in samples], columns=features)


def prepare(
    test: pd.DataFrame,
    reference: pd.DataFrame,
    targets: list[str],
    *,
    top_k: int = 5,
    feature_columns: list[str] | None = None,
    id_column: str | None = None,
) -> TaskData:
    """Checked tables with every sample's nearest references: what one process needs to run or
    preview a whole task (the service retrieves per batch instead, `batch_data`)."""
    tables = check_tables(
        test, reference, targets, feature_columns=feature_columns, id_column=id_column
    )
    index = tables.index()
    neighbours, distances = index.nearest(
        composition_frame(tables.samples, tables.feature_columns), top_k
    )
    return tables_data(tables, tables.samples, neighbours, distances)


def tables_data(
    tables: CheckedTables,
    samples: list[SampleInput],
    neighbours: np.ndarray,
    distances: np.ndarray,
) -> TaskData:
    part = tables.part
    return TaskData(
        targets=tables.targets,
        feature_columns=tables.feature_columns,
        samples=samples,
        reference_rows=part.reference_rows,
        reference_ids=part.reference_ids,
        neighbours=neighbours,
        distances=distances,
        bounds=part.bounds,
        reference_targets=part.reference_targets,
    )


@dataclass
class ReferencePart:
    """What every batch of a task shares: the reference rows as shown, their ids and targets,
    and (built on first use, once per feature kinds) the index retrieval searches."""

    reference_rows: list[dict[str, Any]]
    reference_ids: list[str]
    reference_targets: np.ndarray
    bounds: dict[str, tuple[float, float]]
    frame: pd.DataFrame  # the reference rows with every target known
    _indexes: dict[tuple[tuple[str, ...], tuple[str, ...]], ReferenceIndex] = field(
        default_factory=dict, repr=False
    )

    def index(self, numeric: list[str], categorical: list[str]) -> ReferenceIndex:
        key = (tuple(numeric), tuple(categorical))
        if key not in self._indexes:
            self._indexes[key] = ReferenceIndex.build(self.frame, numeric, categorical)
        return self._indexes[key]


def reference_part(
    reference: pd.DataFrame, targets: list[str], features: list[str], ref_id: str | None
) -> ReferencePart:
    """`reference` with every target known (as `check_tables` leaves it)."""
    ref_targets = reference[targets].to_numpy(dtype=float)
    bounds = {
        t: plausible_bounds(float(ref_targets[:, i].min()), float(ref_targets[:, i].max()))
        for i, t in enumerate(targets)
    }
    reference_rows = [
        {c: _clean_value(v) for c, v in row.items()}
        for row in reference[features + targets].to_dict("records")
    ]
    ref_ids = (
        reference[ref_id].astype(str).tolist()
        if ref_id
        else [f"Ref_{i + 1}" for i in range(len(reference))]
    )
    return ReferencePart(reference_rows, ref_ids, ref_targets, bounds, reference)


def shared_reference_part(
    reference: pd.DataFrame, targets: list[str], features: list[str], id_column: str | None
) -> ReferencePart:
    """`reference_part` of a reference file as read (rows missing a target dropped here)."""
    reference = reference.dropna(subset=targets).reset_index(drop=True)
    ref_id = find_id_column(reference, id_column if id_column in reference.columns else None)
    return reference_part(reference, targets, features, ref_id)


def batch_data(
    part: ReferencePart,
    targets: list[str],
    features: list[str],
    samples: list[SampleInput],
    neighbours: list[list[list[float]]],
) -> TaskData:
    """A batch's TaskData from the shared reference part and its samples' nearest references
    (as stored: [[reference row, distance], ...] each)."""
    return TaskData(
        targets=targets,
        feature_columns=features,
        samples=samples,
        reference_rows=part.reference_rows,
        reference_ids=part.reference_ids,
        neighbours=np.array([[int(i) for i, _ in row] for row in neighbours], dtype=int),
        distances=np.array([[d for _, d in row] for row in neighbours], dtype=float),
        bounds=part.bounds,
        reference_targets=part.reference_targets,
    )


def neighbour_pairs(neighbours: np.ndarray, distances: np.ndarray) -> list[list[list[float]]]:
    """Each row's nearest references as stored with its sample: [[reference row, distance], ...]."""
    return [
        [[int(i), float(d)] for i, d in zip(row, dist, strict=True)]
        for row, dist in zip(neighbours, distances, strict=True)
    ]


def retrieve(
    index: ReferenceIndex, features: list[str], samples: list[SampleInput], top_k: int
) -> list[list[list[float]]]:
    """Test samples' nearest references, from their stored inputs."""
    return neighbour_pairs(*index.nearest(composition_frame(samples, features), top_k))


# --- calibration samples (an LLM's intervals, backend/services/intervals.py) ------------------

CALIBRATION_ID_PREFIX = "calibration-"


def calibration_rows(n: int, count: int) -> list[int]:
    """`count` of `n` rows, evenly spaced and deterministic: ⌊(j + ½)·n / count⌋ for
    j = 0 … count − 1 (distinct while count ≤ n)."""
    return [(2 * j + 1) * n // (2 * count) for j in range(count)]


def max_calibration_samples(part: ReferencePart) -> int:
    """Each calibration row needs at least one other reference row as its neighbour."""
    return len(part.reference_rows) - 1


def calibration_samples(tables: CheckedTables, count: int, first_index: int) -> list[SampleInput]:
    """`count` (1 … max_calibration_samples) reference rows to be predicted exactly like test
    samples (same prompt), numbered from first_index: their inputs as composition, their
    measured targets as truth. Their neighbours come with `calibration_neighbours`."""
    part = tables.part
    limit = max_calibration_samples(part)
    if not 0 < count <= limit:
        raise TaskDataError(f"calibration_samples: between 1 and {limit} here")
    return [
        SampleInput(
            first_index + j,
            f"{CALIBRATION_ID_PREFIX}{part.reference_ids[row]}"[:255],
            {c: part.reference_rows[row][c] for c in tables.feature_columns},
            {t: float(part.reference_targets[row, i]) for i, t in enumerate(tables.targets)},
        )
        for j, row in enumerate(calibration_rows(len(part.reference_rows), count))
    ]


def calibration_neighbours(
    index: ReferenceIndex, count: int, positions: list[int], top_k: int
) -> list[list[list[float]]]:
    """Leave-one-out: the nearest *other* references of calibration samples `positions` (0 …
    count − 1) of a task that has `count` of them."""
    n = len(index.matrix)
    rows = calibration_rows(n, count)
    chosen = np.array([rows[p] for p in positions], dtype=int)
    return neighbour_pairs(*nearest_others(index.matrix, chosen, min(top_k, n - 1)))
