"""The status read checks who is asking inside its own statement (`accounts.fetch_one_as`): the
same answers as the separate lookup every other route makes, for every kind of credential."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from backend.core.config import Settings
from backend.core.errors import TaskNotFound, Unauthorized
from backend.db.models import ApiToken, User
from backend.db.session import unit_of_work
from backend.services import accounts, security
from backend.services.task_views import task_json
from tests.helpers import add_task, on_database

SETTINGS = Settings(SECRET_KEY="read-credentials-secret-0123456789abcdef")


def new_user() -> int:
    with unit_of_work() as session:
        user = accounts.create_user(
            session, f"u{uuid.uuid4().hex[:8]}", "a-long-password-1", "viewer"
        )
        session.flush()
        return user.id


def new_token(user_id: int, expires_in_days: int | None = None) -> tuple[int, str]:
    with unit_of_work() as session:
        row, token = accounts.create_token(session, user_id, "script", expires_in_days)
        session.flush()
        return row.id, token


async def read_as(token: str, task_id: int) -> str:
    """What the status read answers `token`: the task's name, "missing" (404) or "refused"."""
    principal = await accounts.principal_for_bearer(SETTINGS, token)
    found = accounts.credential(SETTINGS, token)
    try:
        if found is None:
            raise Unauthorized("not a token")
        await task_json(task_id, found)
    except Unauthorized:
        assert principal is None  # the separate lookup refuses it too
        return "refused"
    except TaskNotFound:
        assert principal is not None
        return "missing"
    assert principal is not None
    return "read"


def test_the_status_read_accepts_and_refuses_what_the_login_check_does(db_url):
    async def body() -> dict[str, str]:
        task_id = add_task()
        gone = task_id + 10_000
        user = new_user()
        token_id, token = new_token(user)
        _, revoked = new_token(user)
        _, expired = new_token(user)
        with unit_of_work() as session:
            session.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == security.token_digest(revoked))
                .values(revoked_at=datetime.now(UTC))
            )
            session.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == security.token_digest(expired))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        current, _ = security.issue_session(SETTINGS, user, epoch=0)
        stale, _ = security.issue_session(SETTINGS, user, epoch=-1)
        other_key = Settings(SECRET_KEY="another-secret-0123456789abcdefghijkl")
        forged, _ = security.issue_session(other_key, user, epoch=0)
        answers = {
            "token": await read_as(token, task_id),
            "token, no such task": await read_as(token, gone),
            "session": await read_as(current, task_id),
            "ended session": await read_as(stale, task_id),
            "forged session": await read_as(forged, task_id),
            "revoked token": await read_as(revoked, task_id),
            "revoked token, no such task": await read_as(revoked, gone),
            "expired token": await read_as(expired, task_id),
            "unknown token": await read_as(security.new_api_token(), task_id),
        }
        with unit_of_work() as session:
            used = session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
            answers["token use noted"] = "yes" if used is not None else "no"
            session.execute(update(User).where(User.id == user).values(active=False))
        answers["deactivated user's token"] = await read_as(token, task_id)
        answers["deactivated user's session"] = await read_as(current, task_id)
        return answers

    assert on_database(db_url, body) == {
        "token": "read",
        "token, no such task": "missing",
        "session": "read",
        "ended session": "refused",
        "forged session": "refused",
        "revoked token": "refused",
        "revoked token, no such task": "refused",  # who asks is checked before what exists
        "expired token": "refused",
        "unknown token": "refused",
        "token use noted": "yes",
        "deactivated user's token": "refused",
        "deactivated user's session": "refused",
    }
