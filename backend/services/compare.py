"""Runs side by side: tasks on the same test file, scored the same way, with the baseline."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import InvalidConfig
from backend.db.models import Task
from backend.schemas import StartRequest
from backend.services import statistics, tasks
from backend.services.task_views import view_task

MIN_TASKS, MAX_TASKS = 2, 10


def parse_ids(raw: str) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(part) for part in raw.split(",") if part.strip()))
    except ValueError:
        raise InvalidConfig("task_ids: a comma-separated list of task ids") from None
    if not MIN_TASKS <= len(ids) <= MAX_TASKS:
        raise InvalidConfig(f"task_ids: between {MIN_TASKS} and {MAX_TASKS} distinct task ids")
    return ids


def latest_baseline(session: Session, test_file_path: str) -> Task | None:
    """The newest completed baseline run on this test file, if any."""
    return session.scalars(
        select(Task)
        .where(
            Task.llm_provider == "baseline",
            Task.status == "completed",
            Task.config["test_file_path"].as_string() == test_file_path,
        )
        .order_by(Task.id.desc())
        .limit(1)
    ).one_or_none()


def compare(session: Session, ids: list[int]) -> dict[str, Any]:
    chosen = [tasks.get_task(session, i) for i in ids]
    files = {t.config["test_file_path"] for t in chosen}
    added: list[Task] = []
    if not any(t.llm_provider == "baseline" for t in chosen):
        for path in sorted(files):
            baseline = latest_baseline(session, path)
            if baseline is not None:
                added.append(baseline)
    rows = chosen + added
    views = {t.id: view_task(session, t.id) for t in rows}
    return {
        "tasks": [
            {
                "task_id": t.id,
                "task_name": t.name,
                "llm_provider": t.llm_provider,
                "llm_model": t.llm_model,
                "status": t.status,
                "test_file_path": t.config["test_file_path"],
                "added_as_baseline": t in added,
                "usage": views[t.id]["usage"],
                "duration_seconds": _duration(t),
                "accuracy": statistics.accuracy(session, t),
                "convergence": statistics.convergence_stats(session, t),
            }
            for t in rows
        ],
        "same_test_file": len(files) == 1,
    }


def _duration(task: Task) -> float | None:
    if task.started_at is None or task.completed_at is None:
        return None
    return (task.completed_at - task.started_at).total_seconds()


def start_baseline(session: Session, settings: Settings, task: Task, owner_id: int | None) -> Task:
    """The baseline on the same files, targets and columns as `task`, for comparison."""
    request = StartRequest.model_validate(
        {
            **task.config,
            "task_name": f"baseline for {task.name}"[:255],
            "task_description": f"the kNN baseline on the test set of task {task.id}",
            "llm_provider": "baseline",
            "llm_model": "baseline",
        }
    )
    return tasks.create_task(
        session, settings, tasks.check_config(settings, request), owner_id=owner_id
    )
