"""Paths from requests resolve to a stored dataset file or not at all."""

from pathlib import Path

from backend.core.errors import DatasetUnreadable

DATASETS = "datasets"


def resolve_data_path(data_dir: Path, requested: str, field: str) -> Path:
    """The real file `requested` names: relative to DATA_DIR (as uploads answer it,
    `datasets/...`) or absolute, and inside DATA_DIR/datasets either way.

    Everything else under DATA_DIR (the embedded database's files, the secret key, logs) is
    not a dataset; `..`, other absolute paths and symlinks pointing out are refused with 400.
    """
    if not requested or "\x00" in requested:
        raise DatasetUnreadable(f"{field}: a dataset path is required")
    root = (data_dir / DATASETS).resolve()
    candidate = Path(requested)
    candidate = candidate if candidate.is_absolute() else data_dir.resolve() / candidate
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise DatasetUnreadable(
            f"{field}: {requested!r} is not a dataset (upload it; datasets are under {DATASETS}/)"
        )
    if not resolved.is_file():
        raise DatasetUnreadable(f"{field}: no such dataset file {requested!r}")
    return resolved
