"""The answer cache of backend/workflow/calls.py in PostgreSQL (`llm_cache`), shared by every
process: an identical call at temperature 0 (provider, model, messages: the key) is answered
from here instead of the provider. Rows are only ever inserted: the first answer kept wins."""

from psycopg_pool import AsyncConnectionPool

from backend.core.config import Settings
from backend.db.session import read_pool
from backend.workflow.calls import AnswerCache
from backend.workflow.llm import LlmReply

_GET = "SELECT response, prompt_tokens, completion_tokens, model FROM llm_cache WHERE key = %s"
_PUT = """
INSERT INTO llm_cache (key, model, response, prompt_tokens, completion_tokens)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (key) DO NOTHING
"""


class PgAnswerCache:
    def __init__(self, pool: AsyncConnectionPool | None = None) -> None:
        self._pool = pool

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool if self._pool is not None else read_pool()

    async def get(self, key: str) -> LlmReply | None:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(_GET, (key,))
            row = await cursor.fetchone()
        if row is None:
            return None
        response, prompt_tokens, completion_tokens, model = row
        # Kept answers were complete (they parsed), hence no finish_reason; no cost: not paid.
        return LlmReply(response, prompt_tokens, completion_tokens, None, 0.0, model=model)

    async def put(self, key: str, reply: LlmReply) -> None:
        async with self.pool.connection() as connection:
            await connection.execute(
                _PUT,
                (
                    key,
                    (reply.model or "")[:255],
                    reply.text,
                    reply.prompt_tokens,
                    reply.completion_tokens,
                ),
            )


def answer_cache(settings: Settings) -> AnswerCache | None:
    """The cache, or None when LLM_CACHE is false."""
    return PgAnswerCache() if settings.LLM_CACHE else None
