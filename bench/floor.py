"""The reference the status endpoint is judged against: the least an ASGI app can do to answer
`GET /api/tasks/{id}` — one primary-key read of the task row with psycopg, the row as JSON.
It runs under the same server as the API (gunicorn.conf.py, one worker) in the same run, so the
ratio between the two holds whatever else the machine is doing.

    FLOOR_DATABASE_URL=postgresql://... gunicorn -c gunicorn.conf.py bench.floor:app
"""

import asyncio
import os
from typing import Any

import orjson
import psycopg

POOL_SIZE = 10
_SQL = (
    "SELECT id, name, status, llm_provider, llm_model, target_properties, max_iterations, "
    "convergence_threshold, total_samples, created_at, updated_at, completed_at "
    "FROM tasks WHERE id = %s"
)
_pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
            for _ in range(POOL_SIZE):
                _pool.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            while not _pool.empty():
                await _pool.get_nowait().close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/api/health":
        await _answer(send, 200, b'{"status":"ok"}')
        return
    prefix = "/api/tasks/"
    if not path.startswith(prefix) or not path[len(prefix) :].isdigit():
        await _answer(send, 404, b'{"error":"not found"}')
        return
    connection = await _pool.get()
    try:
        cursor = await connection.execute(_SQL, (int(path[len(prefix) :]),))
        row = await cursor.fetchone()
        names = [c.name for c in cursor.description or ()]
    finally:
        _pool.put_nowait(connection)
    if row is None:
        await _answer(send, 404, b'{"error":"not found"}')
        return
    await _answer(send, 200, orjson.dumps(dict(zip(names, row, strict=True))))
