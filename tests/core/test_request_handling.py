import json
import logging

from backend.core.logging import configure_logging, request_id_var
from tests.helpers import ApiClient


def test_log_lines_are_json_with_the_request_id(capsys):
    configure_logging("INFO")
    token = request_id_var.set("req-123")
    try:
        logging.getLogger("backend.test").info("hello", extra={"task_id": 7})
    finally:
        request_id_var.reset(token)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "hello"
    assert line["request_id"] == "req-123"
    assert line["task_id"] == 7
    assert line["level"] == "INFO"


def test_the_request_id_is_echoed_or_made(api: ApiClient):
    given = api.get("/api/health", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = api.get("/api/health").headers["x-request-id"]
    assert len(made) == 16


def test_answers_carry_security_headers(api: ApiClient):
    headers = api.get("/api/health").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    docs = api.get("/docs").headers
    assert docs["x-frame-options"] == "DENY" and "content-security-policy" not in docs
