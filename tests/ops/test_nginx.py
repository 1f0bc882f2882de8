"""deploy/nginx.conf in a real nginx: SPA fallback, caching, gzip, headers, /api proxied.

The template is rendered as the nginx image does (envsubst of three variables), the snippet
paths and the listen address are pointed at a temporary directory, and a stub backend answers
/api/*. Needs the `nginx` binary (Debian: nginx-light).
"""

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.ops.nginx import running_nginx

ASSET = "index-Ab12Cd34.js"


class _StubBackend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status":"ok","database":"ok","path":"%s","forwarded_for":"%s"}' % (
            self.path.encode(),
            (self.headers.get("X-Forwarded-For") or "").encode(),
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("nginx")
    html = base / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text(f'<!doctype html><script src="/assets/{ASSET}"></script>')
    (html / "assets" / ASSET).write_text("console.log('dashboard');\n" * 400)
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StubBackend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        with running_nginx(base, f"127.0.0.1:{backend.server_port}", html) as url:
            yield url
    finally:
        backend.shutdown()


def test_spa_fallback_and_no_cache_for_the_entry_page(nginx: str) -> None:
    for path in ("/", "/tasks/42", "/index.html"):
        response = httpx.get(nginx + path)
        assert response.status_code == 200 and ASSET in response.text, path
        assert "no-cache" in response.headers["cache-control"], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_hashed_assets_are_cached_for_a_year_and_gzipped(nginx: str) -> None:
    response = httpx.get(f"{nginx}/assets/{ASSET}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["public, max-age=31536000, immutable"]
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["x-content-type-options"] == "nosniff"
    # A missing asset is a 404, not the entry page (a stale page must not get HTML as JS).
    assert httpx.get(f"{nginx}/assets/gone-00000000.js").status_code == 404


def test_api_docs_and_openapi_are_proxied(nginx: str) -> None:
    for path in (
        "/api/health",
        "/api/results/1/iterations?sample_index=2",
        "/docs",
        "/openapi.json",
    ):
        response = httpx.get(nginx + path)
        assert response.status_code == 200, path
        body = response.json()
        assert body["path"] == path
        assert body["forwarded_for"] == "127.0.0.1"
    assert httpx.get(f"{nginx}/healthz").text == "ok\n"


def test_a_forged_forwarded_for_does_not_reach_the_backend(nginx: str) -> None:
    """Issue 10.1: the backend sees the address nginx saw, not what the client claims to be."""
    forged = {"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}
    body = httpx.get(f"{nginx}/api/health", headers=forged).json()
    assert body["forwarded_for"] == "127.0.0.1"


def test_request_size_limit(nginx: str) -> None:
    response = httpx.post(f"{nginx}/api/datasets", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
