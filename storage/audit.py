"""Append-only record of who did what, for the board's accountability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import AuditEvent
from storage.text import clip

_EVENT: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_RECORD = insert(_EVENT)
_ACTOR_MAX, _TARGET_MAX = 100, 200  # the columns' lengths: PostgreSQL refuses longer text


def record(
    *,
    db: Session | Connection,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Adds one audit event to the caller's transaction (one prepared INSERT, no ORM object)."""
    conn = db if isinstance(db, Connection) else db.connection()
    target = clip(target, _TARGET_MAX) if target is not None else None
    values = {"at": now, "actor": clip(actor, _ACTOR_MAX), "action": action, "target": target}
    conn.execute(_RECORD, {**values, "details": details or {}})


def list_events(*, session: Session, limit: int = 100) -> list[AuditEvent]:
    """The newest events first."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    return list(session.exec(query.limit(limit)))
