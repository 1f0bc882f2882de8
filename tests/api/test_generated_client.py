"""A Python client generated from the served /openapi.json by openapi-python-client drives the
API as a client author would: upload, start, status, history, accuracy, stats."""

import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.helpers import ApiClient, LiveServer, reference_table, sample_table, unique_ids

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def client_package(live_api: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("generated")
    spec = root / "openapi.json"
    spec.write_bytes(httpx.get(f"{live_api.base_url}/openapi.json").content)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(root / "iterative_client"),
        ],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(root))
    yield "iterative_client"
    sys.path.remove(str(root))


def module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def upload(package: str, client: Any, text: str, name: str) -> str:
    types = module(package, "types")
    models = module(package, "models")
    upload_dataset = module(package, "api.datasets.upload_dataset")
    body = models.BodyUploadDataset(
        file=types.File(payload=io.BytesIO(text.encode()), file_name=name, mime_type="text/csv")
    )
    dataset = upload_dataset.sync(client=client, body=body)
    assert isinstance(dataset, models.DatasetOut), dataset
    return str(dataset.path)


def test_a_generated_client_uploads_starts_and_reads_results(
    client_package: str, live_api: LiveServer
) -> None:
    package = client_package
    models = module(package, "models")
    client = module(package, "client").Client(base_url=live_api.base_url, timeout=httpx.Timeout(30))
    ids = unique_ids(3)
    test_path = upload(package, client, sample_table(ids, truth=True), "test.csv")
    reference_path = upload(package, client, reference_table(), "reference.csv")

    request = models.StartRequest.from_dict(
        {
            "task_name": "generated client",
            "test_file_path": test_path,
            "reference_file_path": reference_path,
            "target_properties": ["UTS", "El"],
            "llm_provider": "baseline",
        }
    )
    started = module(package, "api.iterative_prediction.start_task").sync(
        client=client, body=request
    )
    assert isinstance(started, models.StartResponse), started

    with ApiClient(live_api.base_url) as api:
        api.wait(started.task_id)
    task = module(package, "api.tasks.get_task").sync(started.task_id, client=client)
    assert isinstance(task, models.TaskOut) and task.status.value == "completed"

    history = module(package, "api.results.get_iterations").sync(started.task_id, client=client)
    assert isinstance(history, models.IterationHistory)
    assert history.global_info.total_samples == 3

    accuracy = module(package, "api.results.get_accuracy").sync(started.task_id, client=client)
    assert isinstance(accuracy, models.Accuracy) and accuracy.has_ground_truth

    stats = module(package, "api.iterative_prediction.convergence_stats").sync(
        client=client, task_id=started.task_id
    )
    assert isinstance(stats, models.ConvergenceStats) and stats.total_samples == 3

    missing = module(package, "api.tasks.get_task").sync(2_000_000_000, client=client)
    assert isinstance(missing, models.ErrorEnvelope) and missing.error == "TASK_NOT_FOUND"
