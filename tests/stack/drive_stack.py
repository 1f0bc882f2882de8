"""The production stack, built and run as an operator and a user would (`make test-stack`).

Two copies of the repository's files stand for two hosts. On the first, the commands of
docs/OPERATIONS.md bring the compose stack up; a user logs in through nginx as the admin of
.env, uploads the MPEA demo files, runs a baseline task and sees it in the dashboard (headless
Chromium); a task whose LLM is unreachable leaves failed samples to retry; the backend container
is restarted in the middle of a task, which still finishes; the backup service writes a backup.
The second host starts from nothing, restores that backup, and serves the same history and the
same retryable task, its datasets included. Everything started is stopped and removed.

Run by tests/stack/run.sh, which provides Docker and the base images (the stand-ins here).
Not collected by `pytest tests` (the file name has no test_ prefix).
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.services.demo import split  # noqa: E402
from tests.helpers import free_port, wait_until  # noqa: E402

ADMIN = {"username": "labadmin", "password": "stack-admin-password"}
ARTIFACTS = ROOT / "test-artifacts" / "stack"
TERMINAL = ("completed", "failed", "cancelled")


class Host:
    """A directory holding the project's files, where `docker compose` runs as on a host."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.dir = workdir / name
        self.project = f"stacktest-{name}-{os.getpid()}"
        self.port = free_port()
        self.token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def install(self) -> None:
        """The project's files, as a fresh clone has them (tracked and new, not ignored)."""
        files = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        for name in filter(None, files):
            source = ROOT / name.decode()
            if source.is_file():
                target = self.dir / name.decode()
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)

    def sh(self, command: str, timeout: float = 1800, check: bool = True) -> str:
        """A command of docs/OPERATIONS.md, run in the host's directory."""
        env = {**os.environ, "COMPOSE_PROJECT_NAME": self.project}
        result = subprocess.run(
            command,
            shell=True,
            cwd=self.dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        log = ARTIFACTS / f"{self.name}.log"
        with log.open("a") as out:
            out.write(f"$ {command}\n{result.stdout}{result.stderr}\n")
        if check and result.returncode != 0:
            raise AssertionError(f"{command} -> {result.returncode}\n{result.stderr[-4000:]}")
        return result.stdout

    def set_env(self, **values: str) -> None:
        """Edit .env as the operator does: each KEY=value replaces its (commented) line."""
        path = self.dir / ".env"
        text = path.read_text()
        for key, value in values.items():
            line = f"{key}={value}"
            text, found = re.subn(rf"^#? ?{key}=.*$", line, text, count=1, flags=re.MULTILINE)
            if not found:
                text += f"\n{line}\n"
        path.write_text(text)

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def login(self) -> None:
        response = httpx.post(f"{self.url}/api/auth/login", json=ADMIN, timeout=60)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]

    def services(self) -> dict[str, str]:
        out = self.sh("docker compose ps --all --format json")
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return {row["Service"]: f"{row['State']} {row.get('Health', '')}".strip() for row in rows}

    def task(self, task_id: int) -> dict[str, Any] | None:
        """The task, or None while nginx cannot reach the backend (it restarts: 502)."""
        with self.api() as client:
            try:
                response = client.get(f"/api/tasks/{task_id}")
            except httpx.HTTPError:
                return None
        return response.json() if response.status_code == 200 else None

    def wait_task(self, task_id: int, timeout: float = 600) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            task = self.task(task_id)
            return task if task and task["status"] in TERMINAL else None

        return wait_until(done, timeout, interval=1)


def operator_setup(host: Host) -> None:
    """docs/OPERATIONS.md, "Deploy": from `cp .env.example .env` to a running stack."""
    host.install()
    host.sh("cp .env.example .env")
    host.set_env(
        POSTGRES_PASSWORD="stack-db-password",
        SECRET_KEY="stack-secret-key-" + "k" * 40,
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_PASSWORD=ADMIN["password"],
        HTTP_BIND="127.0.0.1",
        HTTP_PORT=str(host.port),
        # No provider is reachable here: LLM tasks fail at once, leaving samples to retry.
        LLM_API_BASE="http://127.0.0.1:9/v1",
        RETRY_MAX_ATTEMPTS="1",
        # The base images and the build network of this machine (see run.sh).
        **{
            k: os.environ[k]
            for k in ("PYTHON_IMAGE", "NODE_IMAGE", "NGINX_IMAGE", "POSTGRES_IMAGE")
        },
        BUILD_NETWORK="host",
    )
    host.sh("mkdir -p backups && chown 10001:10001 backups")
    host.sh("docker compose up -d --build --wait", timeout=3600)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return tmp_path_factory.mktemp("hosts")


@pytest.fixture(scope="module")
def first(workdir: Path) -> Iterator[Host]:
    host = Host("first", workdir)
    try:
        operator_setup(host)
        yield host
    finally:
        host.sh(
            "docker compose logs --no-color > compose.log 2>&1; cp compose.log "
            f"{ARTIFACTS}/first-compose.log",
            check=False,
        )
        host.sh("docker compose down --volumes --remove-orphans", check=False)


@pytest.fixture(scope="module")
def second(workdir: Path) -> Iterator[Host]:
    host = Host("second", workdir)
    try:
        operator_setup(host)
        yield host
    finally:
        host.sh(
            "docker compose logs --no-color > compose.log 2>&1; cp compose.log "
            f"{ARTIFACTS}/second-compose.log",
            check=False,
        )
        host.sh("docker compose down --volumes --remove-orphans", check=False)


def _csv(frame: Any) -> bytes:
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def _start(host: Host, name: str, test_path: str, reference_path: str, **config: Any) -> int:
    body = {
        "task_name": name,
        "test_file_path": test_path,
        "reference_file_path": reference_path,
        "target_properties": ["YS(MPa)", "UTS(MPa)", "El(%)"],
        "llm_provider": "baseline",
        "llm_model": "knn",
        "enable_iteration": True,
        "max_iterations": 3,
        "convergence_threshold": 0.01,
        **config,
    }
    with host.api() as client:
        response = client.post("/api/iterative-prediction/start", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["task_id"])


@pytest.fixture(scope="module")
def work(first: Host) -> dict[str, Any]:
    """The user's session on the first host: the demo files and two finished tasks."""
    first.login()
    reference, test = split()
    paths = {}
    with first.api() as client:
        for name, frame in (("mpea_reference.csv", reference), ("mpea_test.csv", test)):
            response = client.post("/api/datasets", files={"file": (name, _csv(frame), "text/csv")})
            assert response.status_code == 201, response.text
            paths[name] = response.json()["path"]
    baseline = _start(first, "MPEA baseline", paths["mpea_test.csv"], paths["mpea_reference.csv"])
    task = first.wait_task(baseline)
    assert task["status"] == "completed" and task["failed_samples"] == 0, task
    assert task["total_samples"] == len(test)
    unreachable = _start(
        first,
        "MPEA via an unreachable LLM",
        paths["mpea_test.csv"],
        paths["mpea_reference.csv"],
        llm_provider="openai",
        llm_model="gpt-4o-mini",
        max_iterations=2,
    )
    task = first.wait_task(unreachable)
    assert task["status"] == "completed" and task["failed_samples"] == len(test), task
    return {"baseline": baseline, "retryable": unreachable, "paths": paths}


def test_the_stack_runs_healthy_with_accounts_on(first: Host) -> None:
    states = first.services()
    assert set(states) >= {"db", "backend", "worker", "frontend", "backup"}
    for service, state in states.items():
        assert state == "running healthy", (service, state)
    # Accounts are on although .env.example says nothing of production.
    assert httpx.get(f"{first.url}/api/tasks").status_code == 401
    assert httpx.get(f"{first.url}/api/health").json()["status"] == "ok"
    backend_log = first.sh("docker compose logs --no-color backend")
    assert backend_log.count("Booting worker") >= 2, backend_log[-3000:]
    # Tasks run in the worker service, never in the API's processes.
    assert '"embedded_worker": false' in backend_log, backend_log[-3000:]
    assert '"embedded_worker": true' not in backend_log
    # Docs without internet, through nginx.
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{first.url}{page}").text
        scripts = re.findall(r'src="(/docs/static/[^"]+)"', html)
        assert scripts, html[:500]
        assert all(httpx.get(f"{first.url}{s}").status_code == 200 for s in scripts)
    # Rotated logs for every container.
    for service in states:
        config = first.sh(
            f"docker inspect -f '{{{{json .HostConfig.LogConfig}}}}' "
            f"$(docker compose ps -q {service})"
        )
        assert json.loads(config)["Config"]["max-size"], service


def test_a_user_runs_the_demo_through_nginx(first: Host, work: dict[str, Any]) -> None:
    with first.api() as client:
        history = client.get(f"/api/results/{work['baseline']}/iterations").json()
        stats = client.get(
            "/api/iterative-prediction/convergence-stats", params={"task_id": work["baseline"]}
        ).json()
    assert history["global_info"]["converged_samples"] == len(history["samples"]) > 0
    assert stats["convergence_rate"] == 1.0


def test_the_dashboard_shows_the_task(first: Host, work: dict[str, Any]) -> None:
    shot = ARTIFACTS / "dashboard-task.png"
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests/stack/dashboard.mjs"),
            first.url,
            ADMIN["username"],
            ADMIN["password"],
            str(work["baseline"]),
            "MPEA baseline",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert shot.stat().st_size > 10_000


def test_metrics_inside_the_stack(first: Host, work: dict[str, Any]) -> None:
    text = first.sh(
        'docker compose exec -T backend python -c "import urllib.request; '
        "print(urllib.request.urlopen('http://127.0.0.1:8000/metrics').read().decode())\""
    )
    assert re.search(r'^tasks\{status="completed"\} [2-9]', text, flags=re.MULTILINE), text[-2000:]
    assert 'route="/api/iterative-prediction/start",status="200"' in text
    # The unreachable LLM's calls, by outcome (litellm reports a refused connection as a 5xx), in
    # the worker that made them.
    worker = first.sh(
        'docker compose exec -T worker python -c "import urllib.request; '
        "print(urllib.request.urlopen('http://127.0.0.1:9100/metrics').read().decode())\""
    )
    assert re.search(r'llm_calls_total\{.*outcome="(connection|server)_error".*\} [1-9]', worker)
    # /metrics is for the deployment's own network: nginx does not publish it.
    assert "llm_calls_total" not in httpx.get(f"{first.url}/metrics").text


def test_workers_scale_and_survive_a_kill_and_a_backend_restart(
    first: Host, work: dict[str, Any]
) -> None:
    """Two workers share a task; one is killed and the API restarted while it runs: the task
    finishes all the same."""
    first.sh("docker compose up -d --scale worker=2 --wait", timeout=600)
    assert len(first.sh("docker compose ps -q worker").split()) == 2
    test = split()[1]
    big = test.sample(n=3000, replace=True, random_state=1).reset_index(drop=True)
    big["ID"] = [f"R{i:05d}" for i in range(len(big))]
    with first.api() as client:
        response = client.post(
            "/api/datasets", files={"file": ("mpea_many.csv", _csv(big), "text/csv")}
        )
    assert response.status_code == 201, response.text
    task_id = _start(
        first,
        "long baseline",
        response.json()["path"],
        work["paths"]["mpea_reference.csv"],
        max_iterations=2,
    )

    def running() -> bool:
        task = first.task(task_id)
        if task is None:
            return False
        assert task["status"] not in TERMINAL, f"finished before the restart: {task}"
        return bool(task["status"] == "running" and task["progress"] > 0)

    wait_until(running, 120, interval=0.2)
    victim = first.sh("docker compose ps -q worker").split()[0]
    first.sh(f"docker kill --signal KILL {victim}")
    first.sh("docker compose restart backend")
    task = first.wait_task(task_id, timeout=900)
    assert task["status"] == "completed", task
    assert task["failed_samples"] == 0 and task["progress"] == 1.0
    assert task["total_samples"] == len(big)


@pytest.fixture(scope="module")
def backup(first: Host, work: dict[str, Any]) -> Path:
    """docs/OPERATIONS.md, "Backups": a backup on demand through the backup service."""
    out = first.sh("docker compose exec -T backup bash scripts/backup.sh")
    log = json.loads(out.strip().splitlines()[-1])
    assert log["status"] == "ok", log
    path = first.dir / "backups" / Path(log["file"]).name
    (ARTIFACTS / "backup.json").write_text(json.dumps({**log, "bytes": path.stat().st_size}))
    return path


def test_the_backup_holds_database_and_datasets(backup: Path, work: dict[str, Any]) -> None:
    with tarfile.open(backup) as archive:
        names = archive.getnames()
    assert "toc.dat" in names
    for path in work["paths"].values():
        assert path in names, (path, names)


def test_a_second_host_restores_the_backup(
    first: Host, second: Host, backup: Path, work: dict[str, Any]
) -> None:
    shutil.copy2(backup, second.dir / "backups" / backup.name)
    # docs/OPERATIONS.md, "Restore" (compose).
    second.sh("docker compose stop backend backup")
    out = second.sh(
        "docker compose run --rm --no-deps backup scripts/restore.sh "
        f"/backups/{backup.name} --force"
    )
    log = json.loads(out.strip().splitlines()[-1])
    assert log["status"] == "ok" and log["datasets"] >= 3, log
    second.sh("docker compose start backend backup")
    second.sh("docker compose up -d --wait")
    second.login()  # the restored accounts

    def documents(host: Host) -> dict[str, Any]:
        with host.api() as client:
            tasks = client.get("/api/tasks", params={"limit": 100}).json()
            found = {"tasks": tasks}
            for task_id in (work["baseline"], work["retryable"]):
                history = client.get(f"/api/results/{task_id}/iterations").json()
                history.pop("cursor", None)  # the time of the answer
                found[f"history {task_id}"] = history
        return found

    assert documents(second) == documents(first)

    # The failed samples can be retried there: their datasets came with the backup.
    with second.api() as client:
        response = client.post(
            "/api/iterative-prediction/retry-failed", json={"task_id": work["retryable"]}
        )
    assert response.status_code == 200, response.text
    retry = second.wait_task(response.json()["new_task_id"])
    assert retry["status"] == "completed", retry
    with second.api() as client:
        history = client.get(f"/api/results/{retry['task_id']}/iterations").json()
    errors = [e for s in history["samples"].values() for e in s["errors"]]
    # Each retried sample reached the LLM again (still unreachable here), so its files were read.
    assert errors and {e["error_type"] for e in errors} <= {"connection_error", "server_error"}


BOOT_ROUNDS = int(os.environ.get("STACK_BOOT_ROUNDS", "2"))


def _docker(*args: str, timeout: float = 600) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout.strip()


@pytest.mark.parametrize("round_", range(BOOT_ROUNDS))
def test_cold_start_of_two_containers_on_an_empty_database(first: Host, round_: int) -> None:
    """The backend image alone, as an outside check runs it: two containers with three workers
    each start at once on an empty database with ADMIN_* set; both become healthy, one admin
    exists, and scripts/backup.sh inside writes a verified backup."""
    del first  # the image is the one the first host built
    name = f"stackboot-{os.getpid()}-{round_}"
    password = "boot-db-password"
    _docker("network", "create", name)
    try:
        _docker(
            "run",
            "-d",
            "--name",
            f"{name}-db",
            "--network",
            name,
            "--network-alias",
            "db",
            "-e",
            f"POSTGRES_PASSWORD={password}",
            "-e",
            "POSTGRES_DB=app",
            os.environ["POSTGRES_IMAGE"],
        )
        env = [
            "-e",
            f"DATABASE_URL=postgresql+psycopg://postgres:{password}@db:5432/app",
            "-e",
            "SECRET_KEY=" + "s" * 48,
            "-e",
            f"ADMIN_USERNAME={ADMIN['username']}",
            "-e",
            f"ADMIN_PASSWORD={ADMIN['password']}",
            "-e",
            "GUNICORN_WORKERS=3",
        ]
        backends = [f"{name}-backend{i}" for i in (1, 2)]
        for backend in backends:
            _docker(
                "run",
                "-d",
                "--name",
                backend,
                "--network",
                name,
                *env,
                "iterative-prediction-backend:latest",
            )

        def healthy() -> bool:
            states = [
                _docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", b)
                for b in backends
            ]
            assert all(s.startswith("running") for s in states), states
            return all(s == "running healthy" for s in states)

        try:
            wait_until(healthy, 300, interval=1)
        except AssertionError:
            logs = [
                _docker("logs", b)
                + subprocess.run(["docker", "logs", b], capture_output=True, text=True).stderr
                for b in backends
            ]
            raise AssertionError("\n".join(x[-3000:] for x in logs)) from None
        users = _docker(
            "exec",
            f"{name}-db",
            "psql",
            "-U",
            "postgres",
            "-d",
            "app",
            "-tAc",
            "SELECT username FROM users",
        )
        assert users.split() == [ADMIN["username"]]
        out = _docker("exec", backends[0], "bash", "scripts/backup.sh")
        log = json.loads(out.splitlines()[-1])
        assert log["status"] == "ok" and log["bytes"] > 0, log
        listing = _docker("exec", backends[0], "pg_restore", "--list", log["file"])
        assert "TABLE DATA public users" in listing
    finally:
        subprocess.run(
            f"docker rm -f -v $(docker ps -aq --filter name={name}-) >/dev/null 2>&1; "
            f"docker network rm {name} >/dev/null 2>&1",
            shell=True,
            check=False,
        )
