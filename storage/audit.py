"""Append-only record of who did what, for the board's accountability."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AuditEvent


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Adds one audit event to the caller's transaction."""
    event = AuditEvent(at=now, actor=actor, action=action, target=target, details=details or {})
    session.add(event)
    return event


def list_events(*, session: Session, limit: int = 100) -> list[AuditEvent]:
    """The newest events first."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    return list(session.exec(query.limit(limit)))
