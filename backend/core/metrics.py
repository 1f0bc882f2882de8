"""Prometheus metrics, served at GET /metrics.

Under gunicorn each worker is its own process: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR
at a fresh directory before the workers start, prometheus_client then keeps every worker's values
in files there, and a scrape (answered by any one worker) adds them all up. Without it (one
uvicorn, the tests) the values live in this process. Task counts are not counted as they change:
they are read from the database at scrape time, so every worker reports the same truth.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.vocabulary import TaskStatus
from backend.db.models import Task
from backend.db.session import SessionLocal

CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the body).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LLM_CALLS = Counter(
    "llm_calls_total",
    "LLM calls (single attempts) by outcome: ok, or the error type of API.md.",
    ["provider", "model", "outcome"],
)
LLM_RETRIES = Counter(
    "llm_retries_total",
    "LLM attempts that failed and were retried.",
    ["provider", "model", "error_type"],
)
LLM_TOKENS = Counter(
    "llm_tokens_total", "Tokens reported by the provider.", ["provider", "model", "kind"]
)
LLM_COST = Counter(
    "llm_cost_usd_total", "Cost of LLM calls in USD, as litellm prices them.", ["provider", "model"]
)
LLM_IN_FLIGHT = Gauge(
    "llm_calls_in_flight",
    "LLM calls waiting for an answer now.",
    ["provider", "model"],
    multiprocess_mode="livesum",
)
LLM_LATENCY = Histogram(
    "llm_call_duration_seconds",
    "Time of one LLM attempt.",
    ["provider", "model"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)


def _split(model: str) -> tuple[str, str]:
    """litellm's "provider/model" into its two labels."""
    provider, _, name = model.partition("/")
    return (provider, name) if name else ("unknown", model)


@contextmanager
def llm_call(model: str) -> Iterator[None]:
    """Counts a call in flight for as long as it waits for the provider."""
    gauge = LLM_IN_FLIGHT.labels(*_split(model))
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def llm_call_done(
    model: str,
    outcome: str,
    seconds: float,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    cost_usd: float | None = None,
) -> None:
    provider, name = _split(model)
    LLM_CALLS.labels(provider, name, outcome).inc()
    LLM_LATENCY.labels(provider, name).observe(seconds)
    if prompt_tokens:
        LLM_TOKENS.labels(provider, name, "prompt").inc(prompt_tokens)
    if completion_tokens:
        LLM_TOKENS.labels(provider, name, "completion").inc(completion_tokens)
    if cost_usd:
        LLM_COST.labels(provider, name).inc(cost_usd)


def llm_retry(model: str, error_type: str) -> None:
    LLM_RETRIES.labels(*_split(model), error_type).inc()


class TasksByStatus(Collector):
    """tasks{status=...}: read from the database at every scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("tasks", "Prediction tasks by status.", labels=["status"])
        with SessionLocal() as session:
            rows = dict(
                session.execute(select(Task.status, func.count()).group_by(Task.status)).all()
            )
        for status in TaskStatus:
            family.add_metric([status.value], rows.get(status, 0))
        yield family


def render() -> bytes:
    """The exposition text: this process's (or every worker's) metrics, then the task counts."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    tasks = CollectorRegistry(auto_describe=False)
    tasks.register(TasksByStatus())
    return generate_latest(registry) + generate_latest(tasks)


class MetricsMiddleware:
    """Counts every HTTP request by route template (not raw path: bounded labels) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)
