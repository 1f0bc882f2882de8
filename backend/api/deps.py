"""Dependencies injected into routes: session, settings, and who is asking."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import Forbidden, Unauthorized
from backend.core.vocabulary import Role
from backend.db.session import get_session
from backend.schemas import MAX_ID
from backend.services import audit
from backend.services.accounts import (
    INVALID_TOKEN,
    LOCAL_USER,
    Credential,
    Principal,
    credential,
    principal_for_bearer,
)
from backend.services.audit import Actor


# Dependencies without I/O are `async def`: FastAPI runs a plain `def` in a worker thread.
async def app_settings(request: Request) -> Settings:
    """The settings `create_app` was given: the same object for every route."""
    return request.app.state.settings


# scope="function": the unit of work commits when the route returns, before the response is
# sent; a client never sees an answer for something that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[Settings, Depends(app_settings)]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (log in, or create an API token)")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    settings: Settings = request.app.state.settings
    if not settings.auth_required:
        return LOCAL_USER
    principal = await principal_for_bearer(settings, _bearer(request))
    if principal is None:
        raise Unauthorized(INVALID_TOKEN)
    return principal


async def read_credential(request: Request) -> Credential | None:
    """For the most frequent reads: who is asking is checked in the read's own statement
    (`accounts.fetch_one_as`), not by a statement of its own. None: nobody has to log in."""
    settings: Settings = request.app.state.settings
    if not settings.auth_required:
        return None
    found = credential(settings, _bearer(request))
    if found is None:
        raise Unauthorized(INVALID_TOKEN)
    return found


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ReaderDep = Annotated[Credential | None, Depends(read_credential)]


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        if not principal.may(role):
            raise Forbidden(f"this needs the {role} role; you are {principal.role}")
        return principal

    return check


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_actor(request: Request, principal: PrincipalDep) -> Actor:
    return Actor(principal, client_ip(request))


ActorDep = Annotated[Actor, Depends(current_actor)]
CanRead = Depends(require(Role.VIEWER))
CanWrite = Depends(require(Role.MEMBER))
CanAdmin = Depends(require(Role.ADMIN))


def ensure_owner(
    session: Session, actor: Actor, owner_id: int | None, action: str, target: str
) -> None:
    """403 (audited) unless the caller made the thing or is an admin; reading stays open."""
    if actor.principal.owns(owner_id):
        return
    audit.record_refusal(session, actor, action, target, details={"reason": "not owner"})
    raise Forbidden(f"only the owner of {target} or an admin may {action} it")
