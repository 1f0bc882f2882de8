"""Login, the current user, API tokens, user management and the audit trail."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from backend.api.deps import (
    ActorDep,
    CanAdmin,
    PathId,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    client_ip,
)
from backend.api.responses import errors
from backend.core.errors import InvalidConfig, Unauthorized
from backend.core.vocabulary import MIN_PASSWORD_LENGTH, Role
from backend.db.models import User
from backend.schemas import MAX_ID
from backend.services import accounts, audit, rate_limit, security

router = APIRouter(tags=["accounts"])


class LoginRequest(BaseModel):
    # No NUL byte: the name is looked up and counted in PostgreSQL text, which cannot hold one.
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int | None
    username: str
    role: Role
    active: bool = True


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserOut


class MeOut(UserOut):
    auth_required: bool


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    user_id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    role: Role


class UserUpdate(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class AuditOut(BaseModel):
    id: int
    created_at: datetime
    actor: str
    action: str
    target: str | None
    client_ip: str | None
    success: bool
    details: dict | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int


@router.post("/api/auth/login", response_model=LoginResponse, responses=errors(401, 422, 429))
def login(body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep) -> dict:
    ip = client_ip(request)
    rate_limit.hit(
        session,
        [f"login:ip:{ip}", f"login:user:{accounts.login_bucket(body.username)}"],
        settings.LOGIN_RATE_LIMIT,
        settings.RATE_LIMIT_WINDOW_SECONDS,
    )
    user = accounts.authenticate(session, body.username, body.password)
    if user is None:
        known = accounts.find_user(session, body.username)
        name = known.username if known else accounts.unknown_name_label(body.username)
        audit.record_refusal(
            session,
            None,
            "login",
            name,
            username=name,
            client_ip=ip,
        )
        raise Unauthorized("wrong username or password")
    token, expires = security.issue_session(settings, user.id, user.session_epoch)
    principal = accounts.Principal(user.id, user.username, Role(user.role), "session")
    audit.record(session, audit.Actor(principal, ip), "login", user.username)
    return {"access_token": token, "expires_at": expires, "user": _user(user)}


@router.post("/api/auth/logout", status_code=204, responses=errors(401))
def logout(actor: ActorDep, session: SessionDep) -> None:
    """Ends every dashboard session of the caller (API tokens are revoked one by one)."""
    if actor.principal.user_id is not None:
        accounts.end_sessions(session, actor.principal.user_id)
        audit.record(session, actor, "logout", actor.principal.username)


@router.get("/api/auth/me", response_model=MeOut, responses=errors(401))
def me(principal: PrincipalDep, settings: SettingsDep) -> dict:
    return {
        "id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "active": True,
        "auth_required": settings.auth_required,
    }


@router.get("/api/auth/tokens", response_model=list[TokenOut], responses=errors(401))
def list_tokens(principal: PrincipalDep, session: SessionDep) -> list:
    return accounts.list_tokens(session, principal)


@router.post(
    "/api/auth/tokens", status_code=201, response_model=NewToken, responses=errors(400, 401, 422)
)
def create_token(body: TokenRequest, actor: ActorDep, session: SessionDep) -> dict:
    if actor.principal.user_id is None:
        raise InvalidConfig("API tokens need accounts (AUTH_REQUIRED=true)")
    row, token = accounts.create_token(
        session, actor.principal.user_id, body.name, body.expires_in_days
    )
    audit.record(session, actor, "token_create", f"token {row.id}", details={"name": row.name})
    return {**TokenOut.model_validate(row, from_attributes=True).model_dump(), "token": token}


@router.delete("/api/auth/tokens/{token_id}", response_model=TokenOut, responses=errors(401, 404))
def revoke_token(token_id: PathId, actor: ActorDep, session: SessionDep):
    row = accounts.revoke_token(session, actor.principal, token_id)
    audit.record(session, actor, "token_revoke", f"token {row.id}")
    return row


@router.get(
    "/api/users", response_model=list[UserOut], dependencies=[CanAdmin], responses=errors(401, 403)
)
def list_users(session: SessionDep) -> list:
    return [_user(u) for u in accounts.list_users(session)]


@router.post(
    "/api/users",
    status_code=201,
    response_model=UserOut,
    dependencies=[CanAdmin],
    responses=errors(400, 401, 403, 409, 422),
)
def create_user(body: UserCreate, actor: ActorDep, session: SessionDep) -> dict:
    user = accounts.create_user(session, body.username, body.password, body.role)
    audit.record(session, actor, "user_create", user.username, details={"role": user.role})
    return _user(user)


@router.patch(
    "/api/users/{user_id}",
    response_model=UserOut,
    dependencies=[CanAdmin],
    responses=errors(400, 401, 403, 404, 409, 422),
)
def update_user(user_id: PathId, body: UserUpdate, actor: ActorDep, session: SessionDep) -> dict:
    changes = body.model_dump(exclude_none=True)
    user = accounts.update_user(session, actor.principal, user_id, changes)
    shown = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        shown["password"] = "changed"
    audit.record(session, actor, "user_update", user.username, details=shown)
    return _user(user)


@router.get(
    "/api/audit", response_model=AuditPage, dependencies=[CanAdmin], responses=errors(401, 403)
)
def audit_trail(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict:
    events, total = audit.list_events(session, limit, offset)
    return {"items": events, "total": total}


def _user(user: User) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role, "active": user.active}
