"""The audit trail: who did what, when, from where. Never a password, key or token."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import AuditEvent
from backend.services.accounts import Principal


@dataclass(frozen=True)
class Actor:
    principal: Principal
    client_ip: str | None


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    target: str | None = None,
    *,
    success: bool = True,
    details: dict[str, Any] | None = None,
    username: str | None = None,
    client_ip: str | None = None,
) -> None:
    principal = actor.principal if actor else None
    session.add(
        AuditEvent(
            actor_id=principal.user_id if principal else None,
            actor=(principal.username if principal else username or "anonymous")[:64],
            action=action,
            target=target,
            client_ip=actor.client_ip if actor else client_ip,
            success=success,
            details=details,
        )
    )


def record_refusal(
    session: Session,
    actor: Actor | None,
    action: str,
    target: str | None = None,
    *,
    details: dict[str, Any] | None = None,
    username: str | None = None,
    client_ip: str | None = None,
) -> None:
    """A refused attempt (a wrong password) is kept although its request fails and the
    request's unit of work rolls back: it is written in a transaction of its own."""
    with Session(session.get_bind()) as own, own.begin():
        record(
            own,
            actor,
            action,
            target,
            success=False,
            details=details,
            username=username,
            client_ip=client_ip,
        )


def list_events(session: Session, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(events), session.scalar(select(func.count(AuditEvent.id))) or 0
