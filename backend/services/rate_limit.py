"""Fixed-window rate limits kept in PostgreSQL, so every worker process counts together."""

import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import RateLimited
from backend.services.audit import Actor

_HIT = text(
    """
    INSERT INTO rate_counters (key, window_start, count)
    VALUES (:key, to_timestamp(floor(extract(epoch FROM now()) / :window) * :window), 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + 1
    RETURNING count, extract(epoch FROM window_start + make_interval(secs => :window) - now())
    """
)
_PRUNE = text("DELETE FROM rate_counters WHERE window_start < now() - interval '1 day'")


def hit(session: Session, keys: list[str], limit: int, window: int) -> None:
    """Count one request under each key; 429 with Retry-After if any key is over `limit`.

    The count is its own transaction, apart from the request's unit of work, on purpose: a
    request that then fails (or is refused) still counts, and the counter rows are not held
    locked while the request does its work.
    """
    retry_after = 0.0
    with session.get_bind().engine.connect() as connection:
        for key in keys:
            row = connection.execute(_HIT, {"key": key[:200], "window": window}).one()
            count, remaining = row
            if count == 1:
                connection.execute(_PRUNE)
            if count > limit:
                retry_after = max(retry_after, float(remaining))
        connection.commit()
    if retry_after:
        raise RateLimited(
            f"too many requests; at most {limit} per {window} s, try again later",
            retry_after_seconds=max(1, math.ceil(retry_after)),
        )


def limit_actor(
    session: Session, settings: Settings, actor: Actor, action: str, limit: int
) -> None:
    """Per account and per client address. A single-user set-up (no accounts) has no limits."""
    if actor.principal.user_id is None:
        return
    keys = [f"{action}:user:{actor.principal.user_id}", f"{action}:ip:{actor.client_ip}"]
    hit(session, keys, limit, settings.RATE_LIMIT_WINDOW_SECONDS)
