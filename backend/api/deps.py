"""Dependencies injected into routes: session, settings, runner, and who is asking."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import Forbidden, Unauthorized
from backend.core.vocabulary import Role
from backend.db.session import get_session
from backend.schemas import MAX_ID
from backend.services.accounts import LOCAL_USER, Principal, principal_for_bearer
from backend.services.audit import Actor
from backend.services.runner import TaskRunner


def get_runner(request: Request) -> TaskRunner:
    return request.app.state.runner


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (`create_app(settings)`), in every route."""
    return request.app.state.settings


# scope="function": the unit of work commits when the route returns, before the response is
# sent; a client never sees an answer for something that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[TaskRunner, Depends(get_runner)]


def current_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    if not settings.auth_required:
        return LOCAL_USER
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (log in, or create an API token)")
    principal = principal_for_bearer(session, settings, token.strip())
    if principal is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.may(role):
            raise Forbidden(f"this needs the {role} role; you are {principal.role}")
        return principal

    return check


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_actor(request: Request, principal: PrincipalDep) -> Actor:
    return Actor(principal, client_ip(request))


ActorDep = Annotated[Actor, Depends(current_actor)]
CanRead = Depends(require(Role.VIEWER))
CanWrite = Depends(require(Role.MEMBER))
CanAdmin = Depends(require(Role.ADMIN))
