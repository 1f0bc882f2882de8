"""What an LLM call may be wrapped in, seen from the loop: gates that admit it and an answer cache.

The loop only knows these Protocols; the PostgreSQL implementations shared by every process are
backend/services/provider_limits.py and backend/services/answer_cache.py.
"""

import contextlib
import hashlib
from typing import Protocol

import orjson

from backend.workflow.llm import LlmReply


class CallGate(Protocol):
    """Admits provider attempts: held around one attempt (e.g. calls in flight per provider and
    model, calls per minute)."""

    def call(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held for the whole of one provider attempt."""
        ...

    async def pause(self, seconds: float) -> None:
        """A 429's Retry-After: no holder of this gate (in any process) starts a call before
        `seconds` have passed."""
        ...


class AnswerCache(Protocol):
    """Answers kept for identical calls (asked only at temperature 0)."""

    async def get(self, key: str) -> LlmReply | None: ...

    async def put(self, key: str, reply: LlmReply) -> None: ...


def cache_key(provider: str, model: str, messages: list[dict[str, str]]) -> str:
    """sha256 (hex) of a canonical JSON of the call: sorted keys, no whitespace."""
    document = {"provider": provider, "model": model, "messages": messages}
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
