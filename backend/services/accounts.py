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
from backend.core.errors import InvalidConfig, LastAdmin, NotFound, Unauthorized, UserExists
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


# Who is asking is checked on every request, by one statement on the async read pool (no ORM, no
# thread hop). A read that needs no more than a valid login (the status poll) runs it inside its
# own statement: one round trip for both (`fetch_one_as`). Columns are `auth_*`, apart from any
# the read selects.
_TOKEN_OWNER = """
SELECT t.id AS auth_token_id, t.revoked_at AS auth_revoked_at, t.expires_at AS auth_expires_at,
       t.last_used_at AS auth_last_used_at, u.id AS auth_user_id, u.username AS auth_username,
       u.role AS auth_role, u.active AS auth_active, NULL::int AS auth_epoch
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = %s
"""
_SESSION_USER = """
SELECT NULL::int AS auth_token_id, NULL::timestamptz AS auth_revoked_at,
       NULL::timestamptz AS auth_expires_at, NULL::timestamptz AS auth_last_used_at,
       u.id AS auth_user_id, u.username AS auth_username, u.role AS auth_role,
       u.active AS auth_active, u.session_epoch AS auth_epoch
FROM users u WHERE u.id = %s
"""
_TOKEN_USED = "UPDATE api_tokens SET last_used_at = %s WHERE id = %s"
INVALID_TOKEN = "the token is invalid, expired or revoked"


@dataclass(frozen=True)
class Credential:
    """A bearer token as sent, checked for form but not yet looked up: `sql` finds its owner."""

    sql: str
    params: tuple[Any, ...]
    epoch: int | None = None  # a session token's: its user's epoch must still be this one


def credential(settings: Settings, token: str) -> Credential | None:
    """None for what cannot be a token of ours (a session token not signed by us, expired...)."""
    if token.startswith(security.API_TOKEN_PREFIX):
        return Credential(_TOKEN_OWNER, (security.token_digest(token),))
    claims = security.session_claims(settings, token)
    if claims is None:
        return None
    return Credential(_SESSION_USER, (claims[0],), epoch=claims[1])


async def _principal(cursor: AsyncCursor[Any], found: Credential, row: Any) -> Principal | None:
    """Who the credential's row says is asking; None unless that is an active user now."""
    if row is None or row.auth_user_id is None or not row.auth_active:
        return None
    if found.epoch is not None:
        if row.auth_epoch != found.epoch:
            return None
        return Principal(row.auth_user_id, row.auth_username, Role(row.auth_role), "session")
    now = datetime.now(UTC)
    if row.auth_revoked_at or (row.auth_expires_at and row.auth_expires_at <= now):
        return None
    # Note the use at most once a minute: not a write per request.
    if not row.auth_last_used_at or now - row.auth_last_used_at > timedelta(minutes=1):
        await cursor.execute(_TOKEN_USED, (now, row.auth_token_id))
    return Principal(row.auth_user_id, row.auth_username, Role(row.auth_role), "token")


async def principal_for_bearer(settings: Settings, token: str) -> Principal | None:
    found = credential(settings, token)
    if found is None:
        return None
    async with read_pool().connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        row = await (await cursor.execute(found.sql, found.params)).fetchone()
        return await _principal(cursor, found, row)


async def fetch_one_as(found: Credential | None, sql: str, params: tuple[Any, ...]) -> Any:
    """The first row of `sql`, read for whoever `found` names: Unauthorized unless that is a
    valid login (any role may read); None when `sql` finds nothing. `found` None: nobody has to
    log in (AUTH_REQUIRED off). The login is checked in the same statement as the read."""
    async with read_pool().connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        if found is None:
            return await (await cursor.execute(sql, params)).fetchone()
        both = (
            f"SELECT r.*, a.* FROM ({found.sql}) a "
            f"LEFT JOIN (SELECT TRUE AS read_found, x.* FROM ({sql}) x) r ON TRUE"
        )
        row: Any = await (await cursor.execute(both, (*found.params, *params))).fetchone()
        if await _principal(cursor, found, row) is None:
            raise Unauthorized(INVALID_TOKEN)
    return row if row.read_found else None


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
