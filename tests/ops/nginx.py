"""Run the repository's deploy/nginx.conf in a real nginx in front of a given backend.

The template is rendered as the nginx image does (envsubst of three variables), the snippet
paths and the listen address are pointed at a temporary directory. Needs the `nginx` binary
(Debian: nginx-light).
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import free_port, wait_until
from tests.ops.helpers import ROOT


@contextmanager
def running_nginx(base: Path, upstream: str, html: Path, max_body: str = "1m") -> Iterator[str]:
    """nginx serving `html` and proxying /api to `upstream` (host:port); yields its URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is needed (apt-get install nginx-light)"
    snippets = base / "snippets"
    snippets.mkdir(parents=True, exist_ok=True)
    for name in ("security-headers.conf", "csp.conf", "proxy.conf"):
        shutil.copy(ROOT / "deploy" / name, snippets / name)
    port = free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, value in {
        "BACKEND_UPSTREAM": upstream,
        "NGINX_RESOLVER": "127.0.0.1",
        "NGINX_MAX_BODY_SIZE": max_body,
    }.items():
        site = site.replace("${" + name + "}", value)
    site = (
        site.replace("/etc/nginx/snippets", str(snippets))
        .replace("/usr/share/nginx/html", str(html))
        .replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
        .replace("listen [::]:80 default_server;", "")
    )
    assert "${" not in site
    (base / "default.conf").write_text(site)
    mime = "/etc/nginx/mime.types"
    types = f"include {mime};" if Path(mime).exists() else "types { application/javascript js; }"
    # As root, workers would run as nobody and not see into pytest's private temporary dirs.
    (base / "nginx.conf").write_text(
        f"""daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 64; }}
http {{
  {types}
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path {base}/body;
  proxy_temp_path {base}/proxy;
  include {base}/default.conf;
}}
"""
    )
    conf = ["-c", str(base / "nginx.conf"), "-p", str(base)]
    check = subprocess.run([binary, "-t", *conf], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([binary, *conf], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=20, interval=0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
