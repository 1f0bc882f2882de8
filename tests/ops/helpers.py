"""Helpers of the operations tests: run the ops scripts, fill a database, run gunicorn."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.orm import Session

from backend.db.models import Base, Dataset, Failure, Prediction, Sample, Task
from devstack.api import ApiProcess

ROOT = Path(__file__).resolve().parents[2]
# The job queue's tables are procrastinate's (created by migration 0006), backed up all the same.
QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
)
TABLES = ("alembic_version", *sorted([*Base.metadata.tables, *QUEUE_TABLES]))
# Everything a prediction row holds, in a stable order: equal checksums mean equal rows.
PREDICTIONS_CHECKSUM = """
SELECT md5(coalesce(string_agg(concat_ws('|', id, task_id, sample_index, iteration, "values"::text,
       raw_response, prompt_tokens, completion_tokens, cost_usd, latency_ms, attempts,
       copied_from_task_id, created_at), E'\\n' ORDER BY task_id, sample_index, iteration), ''))
FROM predictions
"""


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def script_env(**extra: str | Path) -> dict[str, str]:
    """The caller's environment without anything that points the scripts elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BACKUP_", "PG")) and k not in ("DATABASE_URL", "DATA_DIR")
    }
    env["PYTHON"] = sys.executable
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_script(name: str, *args: str | Path, env: dict[str, str], timeout: float = 120) -> Any:
    """Run scripts/NAME; returns (CompletedProcess, the JSON of its last stdout line or None)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    document = json.loads(lines[-1]) if lines else None
    return result, document


def scalar(url: str, sql: str) -> Any:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    return {table: scalar(url, f"SELECT count(*) FROM {table}") for table in TABLES}


def predictions_checksum(url: str) -> str:
    return scalar(url, PREDICTIONS_CHECKSUM)


def fill_database(url: str) -> list[int]:
    """Finished tasks with predictions, failures and a retry task; returns the task ids.

    Every task is finished, so an app started on the database resumes nothing.
    """
    engine = create_engine(url, poolclass=pool.NullPool)
    targets = ["YS(MPa)", "Elongation(%)"]
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add_all(
            [
                Dataset(
                    filename=name,
                    path=f"datasets/{name}",
                    rows=rows,
                    columns=["ID", "Fe", "Ni", *targets],
                    size_bytes=100 * rows,
                    checksum=f"{rows:064x}",
                )
                for name, rows in (("reference.csv", 40), ("test.csv", 4))
            ]
        )

        def task(name: str, status: str, samples: int, continue_from: int | None = None) -> Task:
            row = Task(
                name=name,
                description="ops round trip — µ-alloys",
                status=status,
                llm_provider="baseline",
                llm_model="knn",
                temperature=0.0,
                max_iterations=5,
                convergence_threshold=0.01,
                early_stop=True,
                max_workers=4,
                target_properties=targets,
                config={"test_file_path": "datasets/test.csv", "reference_top_k": 5},
                total_samples=samples,
                continue_from_task_id=continue_from,
                early_stop_reason="max_iterations_reached",
                started_at=started,
                completed_at=started + timedelta(minutes=3),
            )
            session.add(row)
            session.flush()
            return row

        first = task("original", "completed", 4)
        second = task("retry of original", "completed", 1, continue_from=first.id)
        for index in range(4):
            failed = index == 3
            session.add(
                Sample(
                    task_id=first.id,
                    sample_index=index,
                    sample_id=f"Alloy-{index + 1} é",
                    composition={"Fe": 20.0 + index, "Ni": 30.5 - index},
                    truth={"YS(MPa)": 900.0 + index, "Elongation(%)": 12.0},
                    status="failed" if failed else "converged",
                    iterations_done=1 if failed else 3,
                    converged_at_iteration=None if failed else 3,
                )
            )
            session.flush()
            for iteration in range(1, 2 if failed else 4):
                session.add(
                    Prediction(
                        task_id=first.id,
                        sample_index=index,
                        iteration=iteration,
                        values={"YS(MPa)": 850.0 + index + 10 / iteration, "Elongation(%)": 11.5},
                        raw_response=json.dumps({"predictions": {"YS(MPa)": 850 + index}}),
                        prompt_tokens=420 + iteration,
                        completion_tokens=35,
                        cost_usd=None,
                        latency_ms=12.5 * iteration,
                        attempts=1,
                        created_at=started + timedelta(seconds=30 * iteration + index),
                    )
                )
            if failed:
                session.add(
                    Failure(
                        task_id=first.id,
                        sample_index=index,
                        iteration=2,
                        error_type="rate_limit",
                        message='429 "slow down"\nretry later',
                        attempts=3,
                    )
                )
        session.add(
            Sample(
                task_id=second.id,
                sample_index=3,
                sample_id="Alloy-4 é",
                composition={"Fe": 23.0, "Ni": 27.5},
                status="not_converged",
                iterations_done=3,
            )
        )
        session.flush()
        for iteration in (1, 2, 3):
            session.add(
                Prediction(
                    task_id=second.id,
                    sample_index=3,
                    iteration=iteration,
                    values={"YS(MPa)": 700.0 * iteration, "Elongation(%)": 9.0 + iteration},
                    attempts=2 if iteration == 2 else 1,
                    copied_from_task_id=first.id if iteration == 1 else None,
                    created_at=started + timedelta(minutes=1, seconds=iteration),
                )
            )
        session.commit()
        ids = [first.id, second.id]
    engine.dispose()
    return ids


class Gunicorn(ApiProcess):
    """`gunicorn -c gunicorn.conf.py backend.main:app` (uvicorn workers), logging to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        env = {**env, "GUNICORN_GRACEFUL_TIMEOUT": "20"}
        super().__init__(env, log_path.parent, server="gunicorn", workers=workers)
        self.log_path = log_path
