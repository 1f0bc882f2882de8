"""Gunicorn settings for production: uvicorn workers, every knob from the environment.

    gunicorn -c gunicorn.conf.py backend.main:app

GUNICORN_BIND            address to listen on (default 0.0.0.0:$PORT, PORT default 8000)
GUNICORN_WORKERS         worker processes (default WEB_CONCURRENCY, else 2)
GUNICORN_TIMEOUT         seconds a silent worker may live before it is killed (default 120)
GUNICORN_GRACEFUL_TIMEOUT seconds a worker gets to finish its requests on SIGTERM (default 30)
GUNICORN_KEEPALIVE       seconds an idle keep-alive connection is kept (default 5)
GUNICORN_MAX_REQUESTS    recycle a worker after this many requests (default 0 = never; a recycled
                         worker interrupts the tasks it runs, which then resume elsewhere)
GUNICORN_ACCESS_LOG      "-" for stdout (default), a file path, or "off"
GUNICORN_LOG_LEVEL       gunicorn's own log level (default LOG_LEVEL, else info)
PROMETHEUS_MULTIPROC_DIR where the workers keep their metrics for /metrics (default: a fresh
                         temporary directory per start; emptied at start either way)
FORWARDED_ALLOW_IPS      proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1,
                         or * in compose, where only nginx reaches the backend)

Logs (gunicorn's and the access log) are JSON lines on stdout/stderr, like the app's own.
"""

import logging
import os
import shutil
import tempfile

from backend.core.logging import JsonLogFormatter


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _worker_class() -> str:
    # The `uvicorn-worker` package is the maintained home of the worker; uvicorn's own module
    # still works but is deprecated.
    try:
        import uvicorn_worker  # noqa: F401
    except ImportError:
        return "uvicorn.workers.UvicornWorker"
    return "uvicorn_worker.UvicornWorker"


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_env_int('PORT', 8000)}"
workers = _env_int("GUNICORN_WORKERS", _env_int("WEB_CONCURRENCY", 2))
worker_class = _worker_class()
timeout = _env_int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker imports the app itself: the app starts database pools and background loops that
# must not be shared across a fork.
preload_app = False
# Heartbeat files in memory, not on a possibly slow overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "iterative-prediction"
# No runtime control socket (gunicornc): nothing in a container would use it.
control_socket_disable = True

_access = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("off", "none", "") else _access
errorlog = "-"
loglevel = (os.environ.get("GUNICORN_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "info").lower()


_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_DATEFMT = "%Y-%m-%dT%H:%M:%S%z"
_RENAME = {"levelname": "level", "asctime": "time"}

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            # Ours, not the plain one: it redacts credentials from every line.
            "()": JsonLogFormatter,
            "fmt": _FORMAT,
            "datefmt": _DATEFMT,
            "rename_fields": _RENAME,
        },
        "access_json": {
            "()": JsonLogFormatter,
            "fmt": _FORMAT,
            "datefmt": _DATEFMT,
            "rename_fields": _RENAME,
        },
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
        "access_console": {
            "class": "logging.StreamHandler",
            "formatter": "access_json",
            "stream": "ext://sys.stdout",
        },
    },
    # Until the app configures logging itself, anything else logs JSON to stderr too.
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["error_console"],
            "propagate": False,
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["access_console"] if accesslog else [],
            "propagate": False,
        },
    },
}


# /metrics adds up every worker's values (prometheus_client's multiprocess mode): the workers,
# forked after this file runs, inherit the directory. A directory left by an earlier run would
# add its counts again, so it starts empty.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="metrics-")
shutil.rmtree(_metrics_dir, ignore_errors=True)
os.makedirs(_metrics_dir, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    # A dead worker's gauges (calls in flight) must not count any more.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:  # type: ignore[no-untyped-def]
    logging.getLogger("gunicorn.error").info("gunicorn stopped")
