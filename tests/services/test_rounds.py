"""Round detail reports whether the round was answered from the answer cache."""

from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session

from backend.db.models import Prediction, Sample
from backend.services.rounds import pack_messages, round_detail
from tests.helpers import task_row


def test_a_cached_round_says_so(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with Session(engine) as session:
        task = task_row(status="completed", total_samples=1)
        session.add(task)
        session.flush()
        session.add(Sample(task_id=task.id, sample_index=0, sample_id="S0", composition={}))
        session.flush()
        messages = [{"role": "user", "content": "predict"}]
        for iteration, cached in ((1, False), (2, True)):
            session.add(
                Prediction(
                    task_id=task.id,
                    sample_index=0,
                    iteration=iteration,
                    values={"UTS": 800.0},
                    raw_response="{}",
                    cost_usd=0.0 if cached else 0.002,
                    attempts=0 if cached else 1,
                    messages_zlib=pack_messages(messages),
                    cached=cached,
                )
            )
        session.flush()
        first = round_detail(session, task, 0, 1)
        second = round_detail(session, task, 0, 2)
    engine.dispose()
    assert first["cached"] is False and first["attempts"] == 1
    assert second["cached"] is True and second["attempts"] == 0 and second["cost_usd"] == 0.0
    assert second["messages"] == messages
