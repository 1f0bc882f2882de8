"""Issue 10's attacks on the production shape: gunicorn (2 uvicorn workers) behind the
repository's own nginx config, accounts on, and FORWARDED_ALLOW_IPS="*" as compose sets it."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session

from backend.services import accounts
from tests.api.test_access import ADMIN_PASSWORD, SECRET_KEY, in_one_window
from tests.api.test_hardening import _raw_post
from tests.helpers import fresh_database, wait_until
from tests.ops.helpers import Gunicorn, script_env
from tests.ops.nginx import running_nginx

# Wider than the API tests' window: two gunicorn workers hashing on a busy 2-core machine.
WINDOW = 10


class _Stack:
    def __init__(self, url: str) -> None:
        self.base_url = url


@pytest.fixture(scope="module")
def stack(pg, template_db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Stack]:
    base: Path = tmp_path_factory.mktemp("prod-stack")
    database = fresh_database(pg, template_db)
    engine = create_engine(database, poolclass=pool.NullPool)
    with Session(engine) as session:  # (two workers racing to create the first admin: not here)
        accounts.create_user(session, "root", ADMIN_PASSWORD, "admin")
        session.commit()  # services only flush: the caller's unit of work commits
    engine.dispose()
    env = script_env(
        DATABASE_URL=database,
        DATA_DIR=base / "data",
        FRONTEND_DIR=base / "no-frontend",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        ENVIRONMENT="production",
        SECRET_KEY=SECRET_KEY,
        LOGIN_RATE_LIMIT="3",
        RATE_LIMIT_WINDOW_SECONDS=str(WINDOW),
        FORWARDED_ALLOW_IPS="*",
    )
    server = Gunicorn(env, base / "gunicorn.log", workers=2).start()
    html = base / "html"
    html.mkdir()
    (html / "index.html").write_text("<!doctype html>")
    try:
        with running_nginx(base / "nginx", f"127.0.0.1:{server.port}", html, "60m") as url:
            yield _Stack(url)
    finally:
        server.stop()


def _login(stack: _Stack, name: str, password: str, forwarded: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/api/auth/login",
        json={"username": name, "password": password},
        headers={"X-Forwarded-For": forwarded},
        timeout=30,
    )


def test_a_forged_forwarded_for_neither_resets_the_address_limit_nor_enters_the_audit(
    stack: _Stack,
):
    def attempt() -> list[int]:
        # Four names (no per-account bucket fills), four claimed addresses: one real address.
        with ThreadPoolExecutor(4) as pool:
            return sorted(
                pool.map(
                    lambda i: _login(stack, f"nobody{i}", "wrong", f"203.0.113.{i}").status_code,
                    range(4),
                )
            )

    assert in_one_window(attempt, WINDOW) == [401, 401, 401, 429]

    def admin_login() -> httpx.Response | None:
        response = _login(stack, "root", ADMIN_PASSWORD, "198.51.100.66")
        return response if response.status_code != 429 else None

    answer = wait_until(admin_login, timeout=3 * WINDOW, interval=0.5)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    events = httpx.get(
        f"{stack.base_url}/api/audit",
        params={"limit": 50},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    logins = [e for e in events if e["action"] == "login"]
    assert logins and {e["client_ip"] for e in logins} == {"127.0.0.1"}


def test_an_unauthenticated_body_is_refused_before_it_is_read(stack: _Stack):
    line = _raw_post(stack, "/api/iterative-prediction/start", {"Content-Type": "application/json"})  # type: ignore[arg-type]
    assert line.endswith("401 Unauthorized"), line
