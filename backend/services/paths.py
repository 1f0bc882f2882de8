"""Paths from requests resolve inside DATA_DIR or not at all."""

from pathlib import Path

from backend.core.errors import DatasetUnreadable


def resolve_data_path(data_dir: Path, requested: str, field: str) -> Path:
    """The real file `requested` names (relative to DATA_DIR, or absolute inside it).

    `..`, absolute paths elsewhere and symlinks pointing out are refused with 400.
    """
    if not requested or "\x00" in requested:
        raise DatasetUnreadable(f"{field}: a dataset path is required")
    root = data_dir.resolve()
    candidate = Path(requested)
    candidate = candidate if candidate.is_absolute() else root / candidate
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise DatasetUnreadable(f"{field}: {requested!r} is outside the data directory")
    if not resolved.is_file():
        raise DatasetUnreadable(f"{field}: no such dataset file {requested!r}")
    return resolved
