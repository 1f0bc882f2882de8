"""Accounts and API tokens: who may act, and how they prove it."""

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncCursor
from psycopg.rows import namedtuple_row
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import InvalidConfig, LastAdmin, NotFound, UserExists
from backend.core.vocabulary import MIN_PASSWORD_LENGTH, Role
from backend.db.models import ApiToken, User
from backend.db.session import read_pool
from backend.services import security


@dataclass(frozen=True)
class Principal:
    """Who a request acts as. `user_id` is None for the single local user of a laptop set-up."""

    user_id: int | None
    username: str
    role: Role
    via: str  # session | token | local

    def may(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def owns(self, owner_id: int | None) -> bool:
        """May act on (cancel, retry, delete) what `owner_id` made: their own, or anything as
        admin. Rows without an owner (made before ownership was recorded) are admins' only."""
        return self.role == Role.ADMIN or (self.user_id is not None and self.user_id == owner_id)


LOCAL_USER = Principal(None, "local", Role.ADMIN, "local")


def normalise_username(username: str) -> str:
    """The one form of a typed username, for the lookup and the login rate-limit bucket alike."""
    return unicodedata.normalize("NFKC", username).strip()


def login_bucket(username: str) -> str:
    """Rate-limit key of a login name: every spelling that could reach one account shares it."""
    return normalise_username(username).casefold()


def unknown_name_label(username: str) -> str:
    """How the audit trail names a login attempt for no known account: never the text itself
    (a password typed into the name box would be kept), but a stable digest to spot repeats."""
    digest = hashlib.sha256(login_bucket(username).encode()).hexdigest()[:12]
    return f"unknown:{digest}"


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidConfig(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, username: str, password: str, role: str) -> User:
    if role not in list(Role):
        raise InvalidConfig(f"role must be one of {', '.join(Role)}")
    check_password_rules(password)
    user = User(
        username=normalise_username(username),
        password_hash=security.hash_password(password),
        role=role,
        active=True,
    )
    try:
        with session.begin_nested():  # a savepoint: the taken name is all that is undone
            session.add(user)
    except IntegrityError as exc:
        raise UserExists(f"username {username!r} is taken") from exc
    return user


def update_user(session: Session, actor: Principal, user_id: int, changes: dict[str, Any]) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    _keep_an_admin(session, actor, user, changes)
    if "role" in changes:
        if changes["role"] not in list(Role):
            raise InvalidConfig(f"role must be one of {', '.join(Role)}")
        user.role = changes["role"]
    if "active" in changes:
        user.active = bool(changes["active"])
    if changes.get("password"):
        check_password_rules(changes["password"])
        user.password_hash = security.hash_password(changes["password"])
    if changes.get("password") or changes.get("active") is False:
        # A new password or a deactivation also ends the API tokens: a reactivated account
        # gets none of them back, and a leaked token dies with the password it was made under.
        _revoke_all_tokens(session, user.id)
    # Any of these ends the user's open sessions: they log in again under the new terms.
    user.session_epoch += 1
    session.flush()
    return user


def _revoke_all_tokens(session: Session, user_id: int) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def end_sessions(session: Session, user_id: int) -> None:
    """Log out everywhere: every session token issued so far stops working."""
    session.execute(
        update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    )


def _keep_an_admin(session: Session, actor: Principal, user: User, changes: dict[str, Any]) -> None:
    """Nobody demotes or deactivates themselves, and the last active admin stays one."""
    demoted = changes.get("role", user.role) != Role.ADMIN or changes.get("active", True) is False
    if not demoted or user.role != Role.ADMIN:
        return
    if user.id == actor.user_id:
        raise LastAdmin("you cannot demote or deactivate your own account")
    others = session.scalar(
        select(func.count(User.id)).where(User.role == Role.ADMIN, User.active, User.id != user.id)
    )
    if not others:
        raise LastAdmin("the last active admin cannot be demoted or deactivated")


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = find_user(session, username)
    ok = security.verify_password(user.password_hash if user else None, password)
    return user if ok and user and user.active else None


# Who is asking is checked on every request: two prepared statements on the async read pool
# (no ORM, no thread hop) rather than ORM loads in a worker thread.
_TOKEN_OWNER = """
SELECT t.id AS token_id, t.revoked_at, t.expires_at, t.last_used_at,
       u.id AS user_id, u.username, u.role, u.active
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = %s
"""
_TOKEN_USED = "UPDATE api_tokens SET last_used_at = %s WHERE id = %s"
_SESSION_USER = "SELECT id, username, role, active, session_epoch FROM users WHERE id = %s"


async def principal_for_bearer(settings: Settings, token: str) -> Principal | None:
    async with read_pool().connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        if token.startswith(security.API_TOKEN_PREFIX):
            return await _principal_for_api_token(cursor, token)
        claims = security.session_claims(settings, token)
        if claims is None:
            return None
        user: Any = await (await cursor.execute(_SESSION_USER, (claims[0],))).fetchone()
    if user is None or not user.active or claims[1] != user.session_epoch:
        return None
    return Principal(user.id, user.username, Role(user.role), "session")


async def _principal_for_api_token(cursor: AsyncCursor[Any], token: str) -> Principal | None:
    now = datetime.now(UTC)
    row = await (await cursor.execute(_TOKEN_OWNER, (security.token_digest(token),))).fetchone()
    if row is None:
        return None
    if row.revoked_at or (row.expires_at and row.expires_at <= now):
        return None
    if not row.active:
        return None
    # Note the use at most once a minute: not a write per request.
    if not row.last_used_at or now - row.last_used_at > timedelta(minutes=1):
        await cursor.execute(_TOKEN_USED, (now, row.token_id))
    return Principal(row.user_id, row.username, Role(row.role), "token")


def create_token(
    session: Session, user_id: int, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    token = security.new_api_token()
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=security.token_digest(token),
        prefix=token[:8],
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if principal.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == principal.user_id)
    return list(session.scalars(query))


def revoke_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (principal.role != Role.ADMIN and token.user_id != principal.user_id):
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.flush()
    return token


def ensure_first_admin(session: Session, settings: Settings) -> str | None:
    """Create ADMIN_USERNAME from the environment when no account exists yet."""
    if not (settings.ADMIN_USERNAME and settings.ADMIN_PASSWORD):
        return None
    # Every worker of every container runs this at start: one at a time (the lock ends with the
    # transaction), so the later ones see the account and leave it alone.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('ensure_first_admin'))"))
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    create_user(
        session, settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value(), Role.ADMIN
    )
    return settings.ADMIN_USERNAME
