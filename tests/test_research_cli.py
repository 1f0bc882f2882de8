"""The researcher's command line against a live server, as a script would run it."""

import os
import subprocess
import sys

import httpx

from tests.helpers import ROOT, LiveServer, free_port, reference_table, sample_table, unique_ids


def cli(server_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "API_URL": server_url}
    env.pop("API_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_submit_follow_export_compare(live_api: LiveServer, tmp_path):
    test_file, reference_file = tmp_path / "new alloys.csv", tmp_path / "known.csv"
    test_file.write_text(sample_table(unique_ids(3), truth=True))
    reference_file.write_text(reference_table(20))
    targets = ["--target", "UTS", "--target", "El"]
    url = live_api.base_url

    submitted = cli(
        url, "submit", "--test", str(test_file), "--reference", str(reference_file), *targets
    )
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.strip()
    assert task_id.isdigit() and "started task" in submitted.stderr

    followed = cli(url, "status", task_id, "--follow", "--interval", "0.2")
    assert followed.returncode == 0, followed.stderr
    last = followed.stdout.strip().splitlines()[-1]
    assert "[" + "#" * 30 + "] 100.0%" in last and "completed" in last
    assert "converged 3/3" in last

    exported = cli(url, "export", task_id, "--layout", "rounds")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[0] == "sample_index,sample_id,iteration,UTS,El"
    target = tmp_path / "final.json"
    written = cli(url, "export", task_id, "--format", "json", "-o", str(target))
    assert written.returncode == 0 and '"layout":"final"' in target.read_text()

    # A second run on the same stored files (paths, not uploads), then both side by side.
    stored = cli(url, "compare", task_id, task_id)
    assert stored.returncode == 1 and "between 2 and 10" in stored.stderr
    stored_paths = {
        d["filename"]: d["path"] for d in httpx.get(f"{url}/api/datasets").json()["items"]
    }
    again = cli(
        url,
        "submit",
        "--test",
        stored_paths["new alloys.csv"],
        "--reference",
        stored_paths["known.csv"],
        *targets,
        "--max-iterations",
        "2",
        "--name",
        "second",
    )
    assert again.returncode == 0, again.stderr
    second = again.stdout.strip()
    cli(url, "status", second, "--follow", "--interval", "0.2")
    table = cli(url, "compare", task_id, second)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "UTS MAE 1→final" in lines[0] and "UTS 90% cover" in lines[0]
    assert len(lines) == 3 and lines[2].startswith(f"#{second} second")
    assert "baseline/knn" in lines[1] and "%" in lines[1]


def test_errors_are_one_line_and_a_nonzero_exit(live_api: LiveServer):
    missing = cli(live_api.base_url, "status", "999999")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: HTTP 404 TASK_NOT_FOUND: no task 999999"
    unreachable = cli(f"http://127.0.0.1:{free_port()}", "status", "1")
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
