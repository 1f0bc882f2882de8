"""The MPEA demo through the HTTP API: upload the split, run a baseline task, print the results.

make demo                      # starts a throw-away API on a free port (embedded PostgreSQL)
API_URL=http://host:8000 make demo   # or drives a running service
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.services.demo import TARGETS, split  # noqa: E402


def _start_api() -> tuple[str, Any]:
    # The repository's launcher (devstack/, not in the production image): only needed here.
    from devstack.api import ApiProcess

    data_dir = Path(os.environ.get("DATA_DIR") or tempfile.mkdtemp(prefix="demo-"))
    os.environ["DATA_DIR"] = str(data_dir)
    server = ApiProcess({**os.environ}, data_dir).start(timeout=120)
    return server.base_url, server


def run(url: str) -> None:
    reference, test = split()
    with httpx.Client(base_url=url, timeout=60) as http:
        paths = {}
        for name, frame in (("mpea_reference.csv", reference), ("mpea_test.csv", test)):
            response = http.post("/api/datasets", files={"file": (name, frame.to_csv(index=False))})
            response.raise_for_status()
            paths[name] = response.json()["path"]
        body = {
            "task_name": "MPEA demo (baseline)",
            "test_file_path": paths["mpea_test.csv"],
            "reference_file_path": paths["mpea_reference.csv"],
            "target_properties": TARGETS,
            "llm_provider": "baseline",
            "llm_model": "knn",
            "enable_iteration": True,
            "max_iterations": 5,
        }
        response = http.post("/api/iterative-prediction/start", json=body)
        response.raise_for_status()
        task_id = response.json()["task_id"]
        deadline = time.monotonic() + 300
        while (task := http.get(f"/api/tasks/{task_id}").json())["status"] not in (
            "completed",
            "failed",
            "cancelled",
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"task {task_id} did not finish")
            time.sleep(0.2)
        stats = http.get("/api/iterative-prediction/convergence-stats", params={"task_id": task_id})
        accuracy = http.get(f"/api/results/{task_id}/accuracy").json()

    print(f"task {task_id}: {task['status']}, {task['provider_label']}")
    print(f"samples: {task['total_samples']} test, {len(reference)} reference")
    print(f"convergence: {stats.json()}")
    header = f"{'target':<10} {'baseline MAE':>13} {'mean-predictor MAE':>19}"
    print(f"\n{header} {'90 % interval coverage':>23}")
    for target in TARGETS:
        mean_mae = (test[target] - reference[target].mean()).abs().mean()
        coverage = accuracy["interval_coverage"].get(target)
        shown = "–" if coverage is None else f"{coverage:.1%}"
        print(
            f"{target:<10} {accuracy['targets'][target]['final']['mae']:>13.1f} {mean_mae:>19.1f}"
            f" {shown:>23}"
        )


def main() -> None:
    url = os.environ.get("API_URL")
    process = None
    if not url:
        url, process = _start_api()
    try:
        run(url)
    finally:
        if process:
            process.stop(30)
            if not os.environ.get("DATABASE_URL"):
                subprocess.run([sys.executable, "-m", "backend.db.embedded", "stop"], cwd=ROOT)


if __name__ == "__main__":
    main()
