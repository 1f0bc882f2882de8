"""Accounts and API tokens: who may act, and how they prove it."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import InvalidConfig, LastAdmin, NotFound, UserExists
from backend.core.vocabulary import MIN_PASSWORD_LENGTH, Role
from backend.db.models import ApiToken, User
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


LOCAL_USER = Principal(None, "local", Role.ADMIN, "local")


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidConfig(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, username: str, password: str, role: str) -> User:
    if role not in list(Role):
        raise InvalidConfig(f"role must be one of {', '.join(Role)}")
    check_password_rules(password)
    user = User(
        username=username.strip(),
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
    # Any of these ends the user's open sessions: they log in again under the new terms.
    user.session_epoch += 1
    session.flush()
    return user


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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    ok = security.verify_password(user.password_hash if user else None, password)
    return user if ok and user and user.active else None


def principal_for_bearer(session: Session, settings: Settings, token: str) -> Principal | None:
    if token.startswith(security.API_TOKEN_PREFIX):
        return _principal_for_api_token(session, token)
    claims = security.session_claims(settings, token)
    if claims is None:
        return None
    user = session.get(User, claims[0])
    if user is None or not user.active or claims[1] != user.session_epoch:
        return None
    return Principal(user.id, user.username, Role(user.role), "session")


def _principal_for_api_token(session: Session, token: str) -> Principal | None:
    now = datetime.now(UTC)
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == security.token_digest(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked_at or (api_token.expires_at and api_token.expires_at <= now):
        return None
    if not user.active:
        return None
    # Note the use at most once a minute: not a write per request.
    if not api_token.last_used_at or now - api_token.last_used_at > timedelta(minutes=1):
        session.execute(
            update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
        )
    return Principal(user.id, user.username, Role(user.role), "token")


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
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    create_user(
        session, settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value(), Role.ADMIN
    )
    return settings.ADMIN_USERNAME
