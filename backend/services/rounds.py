"""One round of one sample, as it happened: the messages sent, the answer, its cost.

Messages are stored zlib-compressed (an MPEA round's 2.5 kB of JSON takes 1.0 kB, so a
2 000-sample × 10-round task stores about 20 MB of prompts); `pack_messages` and
`unpack_messages` are the only code that knows it.
"""

import zlib
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.db.models import Failure, Prediction, Sample, Task
from backend.schemas import MAX_ID


def pack_messages(messages: list[dict[str, str]] | None) -> bytes | None:
    return None if messages is None else zlib.compress(orjson.dumps(messages), 6)


def unpack_messages(packed: bytes | None) -> list[dict[str, str]]:
    return [] if packed is None else orjson.loads(zlib.decompress(packed))


def round_detail(session: Session, task: Task, sample_index: int, iteration: int) -> dict[str, Any]:
    """A stored prediction, or else the failure recorded for that round; 404 if neither."""
    missing = NotFound(f"task {task.id} has no round {iteration} for sample_index {sample_index}")
    if not (0 <= sample_index <= MAX_ID and 1 <= iteration <= MAX_ID):
        raise missing
    sample_id = session.scalar(
        select(Sample.sample_id).where(
            Sample.task_id == task.id, Sample.sample_index == sample_index
        )
    )
    if sample_id is None:
        raise missing
    base = {
        "task_id": task.id,
        "sample_index": sample_index,
        "sample_id": sample_id,
        "iteration": iteration,
        "model": task.llm_model,
    }
    p = session.scalars(
        select(Prediction).where(
            Prediction.task_id == task.id,
            Prediction.sample_index == sample_index,
            Prediction.iteration == iteration,
        )
    ).one_or_none()
    if p is not None:
        return base | {
            "messages": unpack_messages(p.messages_zlib),
            "raw_answer": p.raw_response,
            "reasoning": p.reasoning,
            "predictions": p.values,
            "prompt_tokens": p.prompt_tokens,
            "completion_tokens": p.completion_tokens,
            "cost_usd": p.cost_usd,
            "latency_ms": p.latency_ms,
            "attempts": p.attempts,
            "cached": p.cached,
            "error": None,
        }
    f = session.scalars(
        select(Failure)
        .where(
            Failure.task_id == task.id,
            Failure.sample_index == sample_index,
            Failure.iteration == iteration,
        )
        .order_by(Failure.id.desc())
        .limit(1)
    ).one_or_none()
    if f is None:
        raise missing
    return base | {
        "messages": unpack_messages(f.messages_zlib),
        "raw_answer": None,
        "reasoning": None,
        "predictions": {},
        "prompt_tokens": None,
        "completion_tokens": None,
        "cost_usd": None,
        "latency_ms": None,
        "attempts": f.attempts,
        "cached": False,
        "error": {"error_type": f.error_type, "message": f.message},
    }
