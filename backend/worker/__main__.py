"""`python -m backend.worker`: a worker process with the API's settings (environment, .env).

It migrates the database to head like the API does (serialised by an advisory lock), runs batch
jobs until SIGTERM or SIGINT, then hands its running batches back to the queue.
`python -m backend.worker --check` exits 0 while a worker in this container reaches the database
(the container's health check).
"""

import asyncio
import logging
import signal
import sys

from backend.core.config import get_settings
from backend.worker.health import alive

logger = logging.getLogger("backend.worker")


async def serve() -> None:
    # Imported here: `--check` (the health check) must not pay for them.
    from prometheus_client import start_http_server

    from backend.core.heap import tune_garbage_collector
    from backend.core.logging import configure_logging
    from backend.db.migrate import upgrade_to_head
    from backend.db.session import close_read_pool, dispose_engine, init_engine, open_read_pool
    from backend.worker.supervisor import QueueWorker

    settings = get_settings()
    configure_logging(settings.LOG_LEVEL)
    if settings.WORKER_METRICS_PORT:
        # This process's LLM calls, retries, tokens and cost (the API's /metrics has the rest).
        start_http_server(settings.WORKER_METRICS_PORT)
    engine = init_engine(settings)
    await asyncio.to_thread(upgrade_to_head, engine.url.render_as_string(hide_password=False))
    await open_read_pool()
    worker = QueueWorker(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tune_garbage_collector()  # before any job: their objects must stay collectable
    await worker.start()
    logger.info("worker ready", extra={"worker": worker.name})
    try:
        await stop.wait()
    finally:
        logger.info("worker stopping", extra={"worker": worker.name})
        await worker.stop()
        await close_read_pool()
        dispose_engine()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--check"]:
        settings = get_settings()
        return 0 if alive(settings.WORKER_STALLED_SECONDS) else 1
    if args:
        print("usage: python -m backend.worker [--check]", file=sys.stderr)
        return 2
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
