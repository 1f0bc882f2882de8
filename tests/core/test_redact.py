"""Credentials never survive into stored or logged text (issue 10.9)."""

import io
import json
import logging

from backend.core.config import Settings
from backend.core.logging import JsonLogFormatter
from backend.core.redact import MARK, redact
from backend.core.vocabulary import ErrorType
from backend.workflow.errors import PredictionError

KEY = "sk-proj-Zy8xQ2w9c0ffee0123456789"


def test_credential_shapes_are_redacted():
    for text, secret in (
        (f"401: request had Authorization: Bearer {KEY}", KEY),
        ("upstream said 'authorization': 'Bearer abc.def.ghi-jkl'", "abc.def.ghi-jkl"),
        (f"invalid api key {KEY}", KEY),
        ("https://x/v1?key=AIzaSyA-1234567890abcdefghijklmnopq", "AIzaSyA-1234567890abcdefghij"),
        ('{"api_key": "hunter2hunter2"}', "hunter2hunter2"),
        ("token ipt_abcdefghijklmnop was refused", "ipt_abcdefghijklmnop"),
    ):
        cleaned = redact(text)
        assert secret not in cleaned and MARK in cleaned, cleaned


def test_configured_keys_are_redacted_whatever_their_shape():
    odd = "plainkey-7f3e9a1c55"
    Settings(GEMINI_API_KEY=odd)
    assert odd not in redact(f"gemini refused {odd} (quota)")


def test_ordinary_text_is_left_alone():
    text = "RateLimitError: 429 too many requests; retry after 2 s (model gpt-4o-mini)"
    assert redact(text) == text


def test_prediction_errors_and_log_lines_are_redacted():
    assert KEY not in PredictionError(ErrorType.AUTH_ERROR, f"bad key {KEY}").message
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("%(message)s"))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        log.error("provider said Bearer %s", KEY, extra={"detail": f"key={KEY}"})
        try:
            raise RuntimeError(f"Authorization: Bearer {KEY}")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2 and KEY not in stream.getvalue()


def test_access_lines_have_their_fields_and_a_credential_in_the_path_is_redacted():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:5123", "GET", f"/api/tasks/3?api_key={KEY}", "1.1", 200),
        None,
    )
    line = json.loads(JsonLogFormatter("%(message)s").format(record))
    assert KEY not in json.dumps(line)
    assert line["path"] == "/api/tasks/3?api_key=[REDACTED]"
    assert line["message"] == '10.0.0.7:5123 - "GET /api/tasks/3?api_key=[REDACTED] HTTP/1.1" 200'
    assert (line["client"], line["method"], line["status"], line["level"]) == (
        "10.0.0.7:5123",
        "GET",
        200,
        "INFO",
    )
