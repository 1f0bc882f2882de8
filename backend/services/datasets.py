"""Uploaded datasets: validated, stored under DATA_DIR/datasets, described by a row."""

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import DatasetInUse, InvalidConfig, NotFound, PayloadTooLarge
from backend.core.vocabulary import ACTIVE_TASK_STATUSES
from backend.db.models import Dataset, Task
from backend.db.session import after_commit
from backend.services import csv_files

PREVIEW_ROWS = 20


def _safe_name(filename: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "upload.csv").name).strip("._")
    return (stem or "upload")[:100]


def store_upload(
    session: Session,
    settings: Settings,
    filename: str,
    raw: bytes,
    owner_id: int | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Parse, store and describe an upload. Blocking (pandas on up to MAX_UPLOAD_MB): call it
    from a worker thread, never on the event loop."""
    text, frame = _read_upload(settings, raw, encoding)
    # Stored as UTF-8 whatever it came in, so every later read decodes it the same way.
    raw = text.encode()
    directory = settings.datasets_dir
    directory.mkdir(parents=True, exist_ok=True)
    name = _safe_name(filename)
    if not name.lower().endswith(".csv"):
        name += ".csv"
    relative = Path("datasets") / f"{uuid.uuid4().hex[:12]}_{name}"
    target = settings.DATA_DIR / relative
    # Write to a temporary name first: a crash never leaves a half file under a dataset's path.
    partial = target.with_suffix(".partial")
    partial.write_bytes(raw)
    partial.replace(target)
    types = csv_files.column_types(frame)
    dataset = Dataset(
        filename=Path(filename or name).name[:255],
        path=relative.as_posix(),
        rows=len(frame),
        columns=[{"name": n, "type": t} for n, t in types.items()],
        size_bytes=len(raw),
        checksum=hashlib.sha256(raw).hexdigest(),
        owner_id=owner_id,
    )
    session.add(dataset)
    try:
        session.flush()
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return dataset


def _read_upload(settings: Settings, raw: bytes, encoding: str | None) -> tuple[str, pd.DataFrame]:
    if len(raw) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"file: larger than {settings.MAX_UPLOAD_MB:g} MB")
    try:
        text = csv_files.decode(raw, encoding)
        return text, csv_files.parse_text(text)
    except csv_files.CsvError as exc:
        raise InvalidConfig(f"file: {exc}") from exc


def preview_upload(settings: Settings, raw: bytes, encoding: str | None) -> dict[str, Any]:
    """What an upload would store, decoded, before anything is stored: check the header."""
    _, frame = _read_upload(settings, raw, encoding)
    head = frame.head(PREVIEW_ROWS).astype(object)
    return {
        "encoding": encoding or csv_files.detect_encoding(raw),
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "column_types": csv_files.column_types(frame),
        "preview": head.where(pd.notna(head), None).to_dict("records"),
    }


def describe(dataset: Dataset) -> dict[str, Any]:
    return {
        "dataset_id": dataset.id,
        "path": dataset.path,
        "filename": dataset.filename,
        "rows": dataset.rows,
        "columns": [c["name"] for c in dataset.columns],
        "column_types": {c["name"]: c["type"] for c in dataset.columns},
        "size_bytes": dataset.size_bytes,
        "checksum": dataset.checksum,
        "created_at": dataset.created_at,
    }


def list_datasets(session: Session) -> tuple[list[Dataset], int]:
    items = session.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
    return list(items), session.scalar(select(func.count(Dataset.id))) or 0


def get_dataset(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    return dataset


def delete_dataset(session: Session, settings: Settings, dataset: Dataset) -> None:
    """Remove the row and the file; 409 while an unfinished task reads it."""
    in_use = session.scalars(
        select(Task.id)
        .where(
            Task.status.in_(ACTIVE_TASK_STATUSES),
            (Task.config["test_file_path"].as_string() == dataset.path)
            | (Task.config["reference_file_path"].as_string() == dataset.path),
        )
        .limit(5)
    ).all()
    if in_use:
        raise DatasetInUse(
            f"dataset {dataset.id} is used by unfinished task(s) {list(in_use)}; "
            "wait for them or cancel them first"
        )
    path = settings.DATA_DIR / dataset.path
    session.delete(dataset)
    session.flush()
    after_commit(session, lambda: path.unlink(missing_ok=True))  # the file goes with its row


def preview(settings: Settings, dataset: Dataset) -> list[dict[str, Any]]:
    path = settings.DATA_DIR / dataset.path
    if not path.is_file():
        return []
    frame = csv_files.read(path).head(PREVIEW_ROWS)
    frame = frame.astype(object).where(pd.notna(frame), None)
    return frame.to_dict("records")
