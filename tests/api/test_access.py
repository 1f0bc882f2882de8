"""Accounts, roles, tokens, rate limits and the audit trail, on a server run as in production."""

import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import pytest

from backend.core.config import Settings
from backend.db.embedded import bin_dir
from backend.services.security import issue_session
from tests.helpers import (
    ApiClient,
    LiveServer,
    api_env,
    fresh_database,
    reference_table,
    sample_table,
    start_body,
    unique_ids,
    wait_until,
)

T = TypeVar("T")
SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnop"
ADMIN_PASSWORD = "admin-pass-7f3e91c2"
MEMBER_PASSWORD = "member-pass-2b8d44a1"
VIEWER_PASSWORD = "viewer-pass-9c1f05e7"
WINDOW = 3
PUBLIC = {("GET", "/api/health"), ("POST", "/api/auth/login")}
ANY_ROLE = {"/api/auth/me", "/api/auth/logout", "/api/auth/tokens", "/api/auth/tokens/{token_id}"}


@pytest.fixture(scope="module")
def server(pg, template_db, fake_llm, tmp_path_factory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("secure")
    database = fresh_database(pg, template_db)
    env = api_env(
        database,
        data_dir,
        fake_llm,
        ENVIRONMENT="production",
        SECRET_KEY=SECRET_KEY,
        ADMIN_USERNAME="root",
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        LOGIN_RATE_LIMIT="3",
        RATE_LIMIT_WINDOW_SECONDS=str(WINDOW),
    )
    live = LiveServer(env, data_dir)
    live.database = database  # type: ignore[attr-defined]
    live.start()
    yield live
    live.stop()


def login(server: LiveServer, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/auth/login", json={"username": username, "password": password}
    )


def client(server: LiveServer, token: str) -> ApiClient:
    api = ApiClient(server.base_url, server.data_dir)
    api.http.headers["Authorization"] = f"Bearer {token}"
    return api


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[ApiClient]:
    with client(server, token_for(server, "root", ADMIN_PASSWORD)) as api:
        for name, password, role in (
            ("mia", MEMBER_PASSWORD, "member"),
            ("vic", VIEWER_PASSWORD, "viewer"),
        ):
            created = api.post(
                "/api/users", json={"username": name, "password": password, "role": role}
            )
            assert created.status_code == 201, created.text
        yield api


def token_for(server: LiveServer, username: str, password: str) -> str:
    """Log in, waiting out the (deliberately tight) login rate limit of this server."""
    response = wait_until(
        lambda: (r := login(server, username, password)).status_code != 429 and r,
        timeout=15,
        interval=0.5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def routes(server: LiveServer) -> list[tuple[str, str]]:
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def call(http: httpx.Client, method: str, path: str) -> httpx.Response:
    url = path.replace("{", "").replace("}", "")
    for name in ("task_id", "result_id", "dataset_id", "token_id", "user_id"):
        url = url.replace(name, "1")
    return http.request(method, url, json={})


def test_every_route_but_health_and_login_needs_credentials(server: LiveServer):
    with httpx.Client(base_url=server.base_url) as http:
        guarded = [r for r in routes(server) if r not in PUBLIC]
        assert len(guarded) >= 15
        for method, path in guarded:
            response = call(http, method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "UNAUTHORIZED"
            bogus = http.request(method, path, headers={"Authorization": "Bearer nonsense"})
            assert bogus.status_code == 401, (method, path)
        assert http.get("/api/health").status_code == 200


def test_a_viewer_reads_but_may_not_act(server: LiveServer, admin: ApiClient):
    with client(server, token_for(server, "vic", VIEWER_PASSWORD)) as viewer:
        assert viewer.get("/api/tasks").status_code == 200
        writes = [
            (m, p)
            for m, p in routes(server)
            if m != "GET" and (m, p) not in PUBLIC and p not in ANY_ROLE
        ]
        assert writes
        for method, path in writes:
            response = call(viewer.http, method, path)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"] == "FORBIDDEN"
        assert viewer.get("/api/audit").status_code == 403
        assert viewer.get("/api/users").status_code == 403


def test_a_member_runs_tasks_and_the_audit_trail_records_it(
    server: LiveServer, admin: ApiClient, fake_llm
):
    ids = unique_ids(2)
    fake_llm.script(
        {ids[0]: {"rounds": [{"UTS": 600, "El": 12}]}, ids[1]: {"rounds": [{"status": 500}]}}
    )
    with client(server, token_for(server, "mia", MEMBER_PASSWORD)) as member:
        task_id = member.start(sample_table(ids), reference_table())
        # The task says who started it (the dashboard offers cancel and retry to them).
        assert member.wait(task_id)["owner_id"] == member.get("/api/auth/me").json()["id"]
        retry = member.post("/api/iterative-prediction/retry-failed", json={"task_id": task_id})
        assert retry.status_code == 200
        member.wait(retry.json()["new_task_id"])
        created = member.post("/api/auth/tokens", json={"name": "notebook"})
        assert created.status_code == 201
        token = created.json()["token"]
        with client(server, token) as by_token:
            assert by_token.get("/api/auth/me").json()["username"] == "mia"
            # A script exports results with its token.
            exported = by_token.get(f"/api/results/{task_id}/export", params={"layout": "rounds"})
            assert exported.status_code == 200, exported.text
            assert exported.text.startswith("sample_index,sample_id,iteration,UTS,El\r\n")
            started = by_token.post(
                "/api/iterative-prediction/start",
                json=start_body(*_paths(by_token), llm_provider="baseline"),
            )
            assert started.status_code == 200
            assert by_token.post(f"/api/tasks/{started.json()['task_id']}/cancel").status_code in (
                200,
                409,
            )
        assert member.http.delete(f"/api/auth/tokens/{created.json()['id']}").status_code == 200
        with client(server, token) as revoked:
            assert revoked.get("/api/tasks").status_code == 401
            # The status read checks the login in its own statement: refused the same way.
            refused = revoked.get(f"/api/tasks/{task_id}")
            assert refused.status_code == 401
            assert refused.json()["details"] == "the token is invalid, expired or revoked"

    events = admin.get("/api/audit", params={"limit": 500}).json()["items"]
    actions = {(e["actor"], e["action"]) for e in events}
    for action in ("login", "upload", "start", "retry", "token_create", "token_revoke", "cancel"):
        assert ("mia", action) in actions, action
    assert ("root", "user_create") in actions
    assert all(e["client_ip"] for e in events)
    text = str(events) + server.log()
    for secret in (ADMIN_PASSWORD, MEMBER_PASSWORD, VIEWER_PASSWORD, token, SECRET_KEY):
        assert secret not in text


def _paths(api: ApiClient) -> tuple[str, str]:
    return api.upload(sample_table(unique_ids(1))), api.upload(reference_table())


def test_expired_session_is_refused(server: LiveServer, admin: ApiClient):
    settings = Settings(SECRET_KEY=SECRET_KEY, ENVIRONMENT="production")
    user_id = admin.get("/api/auth/me").json()["id"]
    expired, _ = issue_session(settings, user_id, 0, minutes=-1)
    with client(server, expired) as api:
        assert api.get("/api/tasks").status_code == 401
    fresh, _ = issue_session(settings, user_id, 0, minutes=5)
    with client(server, fresh) as api:
        assert api.get("/api/tasks").status_code == 200


def test_a_deactivated_user_is_locked_out(server: LiveServer, admin: ApiClient):
    created = admin.post(
        "/api/users", json={"username": "temp", "password": "temp-pass-123", "role": "member"}
    )
    token = token_for(server, "temp", "temp-pass-123")
    assert (
        admin.http.patch(f"/api/users/{created.json()['id']}", json={"active": False}).status_code
        == 200
    )
    with client(server, token) as api:
        assert api.get("/api/tasks").status_code == 401
    refused = wait_until(
        lambda: (r := login(server, "temp", "temp-pass-123")).status_code != 429 and r, timeout=15
    )
    assert refused.status_code == 401


def in_one_window(attempt: Callable[[], T], window: int = WINDOW) -> T:
    """Run `attempt` from the start of a rate-limit window (counters use fixed windows aligned
    on the clock) until one run fits in that window: each login costs an argon2 hash, and on a
    loaded machine a burst can spill into the next window, which would reset the counts."""
    for _ in range(5):
        start = (time.time() // window + 1) * window
        wait_until(lambda s=start: time.time() >= s, timeout=window + 1, interval=0.02)  # type: ignore[misc]
        result = attempt()
        if time.time() < start + window:
            return result
    pytest.fail("a login burst never fitted in one rate-limit window")


def burst(server: LiveServer, attempts: list[tuple[str, str, str | None]]) -> list[int]:
    """Concurrent logins (name, password, X-Forwarded-For or None); their statuses, sorted."""

    def one(attempt: tuple[str, str, str | None]) -> int:
        name, password, forwarded = attempt
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return httpx.post(
            f"{server.base_url}/api/auth/login",
            json={"username": name, "password": password},
            headers=headers,
        ).status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        return sorted(pool.map(one, attempts))


def test_login_is_rate_limited_and_the_limit_resets(server: LiveServer, admin: ApiClient):
    def attempt() -> tuple[list[int], httpx.Response]:
        statuses = burst(server, [("vic", "wrong password", None)] * 4)
        return statuses, login(server, "vic", VIEWER_PASSWORD)

    statuses, limited = in_one_window(attempt)
    assert statuses == [401, 401, 401, 429]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"] == "RATE_LIMITED"
    wait_until(
        lambda: login(server, "vic", VIEWER_PASSWORD).status_code == 200, timeout=15, interval=0.5
    )
    failed = [
        e
        for e in admin.get("/api/audit", params={"limit": 500}).json()["items"]
        if e["action"] == "login" and not e["success"]
    ]
    assert failed and "wrong password" not in str(failed)


def test_the_database_holds_no_secret_in_clear(server: LiveServer, admin: ApiClient):
    created = admin.post("/api/auth/tokens", json={"name": "dump check"}).json()["token"]
    url = server.database.replace("postgresql+psycopg://", "postgresql://")  # type: ignore[attr-defined]
    dump = subprocess.run(
        [str(bin_dir() / "pg_dump"), "--data-only", url], capture_output=True, text=True, check=True
    ).stdout
    assert "$argon2id$" in dump
    for secret in (ADMIN_PASSWORD, MEMBER_PASSWORD, VIEWER_PASSWORD, created, SECRET_KEY):
        assert secret not in dump


def test_production_refuses_to_start_without_a_secret_key(pg, template_db, fake_llm, tmp_path):
    env = api_env(fresh_database(pg, template_db), tmp_path, fake_llm, ENVIRONMENT="production")
    server = LiveServer(env, tmp_path)
    with pytest.raises(RuntimeError, match="API exited"):
        server.start(timeout=60)
    assert "SECRET_KEY must be set in production" in server.log()


def test_the_last_admin_cannot_lock_everyone_out(server: LiveServer, admin: ApiClient):
    me = admin.get("/api/auth/me").json()["id"]
    for change in ({"active": False}, {"role": "member"}):
        response = admin.http.patch(f"/api/users/{me}", json=change)
        assert response.status_code == 409 and response.json()["error"] == "LAST_ADMIN"
    assert admin.get("/api/auth/me").json()["role"] == "admin"


def test_logout_and_a_new_password_end_open_sessions(server: LiveServer, admin: ApiClient):
    created = admin.post(
        "/api/users", json={"username": "leo", "password": "leo-pass-1234", "role": "viewer"}
    )
    first, second = (token_for(server, "leo", "leo-pass-1234") for _ in range(2))
    with client(server, first) as api:
        assert api.post("/api/auth/logout").status_code == 204
        assert api.get("/api/tasks").status_code == 401
    with client(server, second) as other_device:
        assert other_device.get("/api/tasks").status_code == 401  # logged out everywhere
    third = token_for(server, "leo", "leo-pass-1234")
    reset = admin.http.patch(
        f"/api/users/{created.json()['id']}", json={"password": "leo-new-5678"}
    )
    assert reset.status_code == 200
    with client(server, third) as api:
        assert api.get("/api/tasks").status_code == 401
    assert token_for(server, "leo", "leo-new-5678")
    actions = [e["action"] for e in admin.get("/api/audit", params={"limit": 50}).json()["items"]]
    assert "logout" in actions
