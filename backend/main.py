"""The FastAPI application: `uvicorn backend.main:app`.

Start-up brings up the database (the embedded PostgreSQL when DATABASE_URL is unset), migrates it
to head, and (EMBEDDED_WORKER, the default) starts a queue worker in this process, so one command
runs everything; in compose, `python -m backend.worker` processes run the tasks instead.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.api import accounts, compare, datasets, health, iterative, results, tasks
from backend.api.openapi import install_openapi, operation_id
from backend.api.request_guard import RequestGuardMiddleware
from backend.core import metrics
from backend.core.config import Settings, get_settings
from backend.core.errors import install_error_handlers
from backend.core.heap import tune_garbage_collector
from backend.core.logging import configure_logging
from backend.core.request_context import RequestContextMiddleware
from backend.core.security_headers import SecurityHeadersMiddleware
from backend.db.migrate import upgrade_to_head
from backend.db.session import (
    close_read_pool,
    dispose_engine,
    init_engine,
    open_read_pool,
    unit_of_work,
)
from backend.schemas import PromptPreviewRequest, StartRequest, field_bounds
from backend.services import security
from backend.services.accounts import ensure_first_admin
from backend.worker.supervisor import QueueWorker

logger = logging.getLogger("backend")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    engine = init_engine(settings)
    upgrade_to_head(engine.url.render_as_string(hide_password=False))
    _check_access(settings)
    await open_read_pool()
    tune_garbage_collector()  # before any job: their objects must stay collectable
    worker = QueueWorker(settings) if settings.EMBEDDED_WORKER else None
    if worker is not None:
        await worker.start()
    logger.info(
        "ready",
        extra={
            "database": engine.url.render_as_string(hide_password=True),
            "embedded_worker": worker is not None,
        },
    )
    try:
        yield
    finally:
        if worker is not None:
            await worker.stop()
        await close_read_pool()
        dispose_engine()


def _check_access(settings: Settings) -> None:
    """Refuse to run production without a SECRET_KEY; say loudly when nobody has to log in."""
    if not settings.auth_required:
        logger.warning(
            "AUTH_REQUIRED is false: anyone who can reach this port acts as admin. "
            "Fine for one person on a laptop; set ENVIRONMENT=production on a shared server."
        )
        return
    security.secret_key(settings)  # raises in production when SECRET_KEY is unset
    with unit_of_work() as session:
        created = ensure_first_admin(session, settings)
    if created:
        logger.info("created the first admin account", extra={"username": created})


def _mount_frontend(app: FastAPI, directory: Path) -> None:
    """Serve the built dashboard at / with SPA fallback; /api and /docs stay the API's."""
    root = directory.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def frontend(path: str) -> Response:
        if path.startswith(("api/", "docs", "openapi.json", "redoc", "metrics")) or path == "api":
            raise StarletteHTTPException(404, f"no route /{path}")
        candidate = (root / path).resolve()
        if path and candidate.is_relative_to(root) and candidate.is_file():
            return FileResponse(candidate)
        html = root / f"{path.rstrip('/')}.html"
        if path and html.resolve().is_relative_to(root) and html.is_file():
            return FileResponse(html)
        return FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)
    # /docs and /redoc load Swagger UI and ReDoc from the backend itself: no CDN, no internet.
    app = FastAPIOffline(
        static_url="/docs/static",
        title="Iterative property prediction",
        version=health.VERSION,
        description="Predict alloy properties with an LLM, round after round, until they converge.",
        lifespan=lifespan,
        debug=False,  # tracebacks go to the log, never into a response
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app, field_bounds(StartRequest, PromptPreviewRequest))
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_methods=["*"],
            allow_headers=["*"],
        )

    app.add_middleware(RequestGuardMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, log_requests=settings.DEBUG)
    app.add_middleware(metrics.MetricsMiddleware)
    # The status poll (`GET /api/tasks/{id}`), the most frequent request, is matched first: a
    # request is matched against every route of the routers before its own.
    for module in (tasks, iterative, results, health, accounts, datasets, compare):
        app.include_router(module.router)

    # For a Prometheus server inside the deployment: not proxied by nginx (compose), so it
    # needs no login; it holds counts, never data.
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    if (settings.FRONTEND_DIR / "index.html").is_file():
        _mount_frontend(app, settings.FRONTEND_DIR)
    install_openapi(app)
    return app


app = create_app()
