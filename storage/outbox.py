"""The outbox: messages owed to chats, queued under a unique key, claimed, and marked done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.engine import session_for
from storage.models import ChatLink, Delivery, DeliveryStatus

MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class Target:
    """A chat to write to: the channel's name and the chat's id on it."""

    channel: str
    chat_id: str

    @classmethod
    def parse(cls, text: str) -> Target:
        """Reads "channel:chat_id" (the chat id may itself hold colons or a minus sign)."""
        channel, sep, chat_id = text.strip().partition(":")
        if not sep or not channel or not chat_id:
            raise ValueError(f"expected channel:chat_id, got {text!r}")
        return cls(channel, chat_id)

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


def row(
    key: str,
    kind: str,
    now: datetime,
    target: Target,
    *,
    milestone: int | None = None,
    enterprise: int | None = None,
    contact: int | None = None,
    step: int | None = None,
    payload: dict[str, object] | None = None,
) -> dict[str, object]:
    """One outbox row's values, pending from ``now``."""
    return {
        "dedupe_key": key[:200],
        "kind": kind,
        "milestone_id": milestone,
        "enterprise_id": enterprise,
        "contact_id": contact,
        "step": step,
        "channel": target.channel,
        "chat_id": target.chat_id,
        "payload": payload or {},
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }


def insert(session: Session, rows: list[dict[str, object]]) -> int:
    """Inserts outbox rows, skipping keys already planned; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Delivery.__table__  # type: ignore[attr-defined]
    # RETURNING counts what was new on both backends (psycopg reports rowcount -1 here).
    statement = (
        insert_into(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    connection = session.connection()
    created = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        created += len(connection.execute(statement, chunk[0] if len(chunk) == 1 else chunk).all())
    return created


def enqueue(
    *,
    session: Session,
    key: str,
    kind: str,
    target: Target,
    now: datetime,
    payload: dict[str, object] | None = None,
) -> bool:
    """Adds one message (a board notice, a broadcast line) unless its key was used before."""
    return insert(session, [row(key, kind, now, target, payload=payload)]) == 1


def enqueue_reminder(
    *, session: Session, milestone_id: int, enterprise_id: int, contact_id: int,
    target: Target, key: str, now: datetime,
) -> int:  # fmt: skip
    """Queues one reminder now (the board's "remind them"); 1 if new, 0 if the key was used."""
    values = row(
        key, "reminder", now, target, milestone=milestone_id, enterprise=enterprise_id,
        contact=contact_id,
    )  # fmt: skip
    return insert(session, [values])


def release_claims(engine: Engine, now: datetime, *, older_than: timedelta = STALE_CLAIM) -> int:
    """Returns rows claimed by a process that died to the queue (at start: all of them)."""
    with session_for(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(
                col(Delivery.status) == DeliveryStatus.CLAIMED,
                col(Delivery.claimed_at) <= now - older_than,
            )
            .values(status=DeliveryStatus.PENDING)
        )
        session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]


def due(session: Session, now: datetime, limit: int) -> list[Delivery]:
    """Pending rows whose time has come, oldest first, locked against other senders."""
    return list(
        session.exec(
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, col(Delivery.not_before) <= now)
            .order_by(col(Delivery.not_before), col(Delivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def set_status(session: Session, ids: list[int], status: DeliveryStatus, **values: Any) -> None:
    """Moves rows to ``status`` in one statement (claimed, cancelled, back to pending)."""
    if ids:
        session.execute(
            update(Delivery).where(col(Delivery.id).in_(ids)).values(status=status, **values)
        )


def unclaim(engine: Engine, ids: list[int]) -> None:
    """Returns rows a run claimed but will not send."""
    if ids:
        with session_for(engine) as session:
            set_status(session, ids, DeliveryStatus.PENDING)
            session.commit()


def mark_sent(engine: Engine, ids: list[int], now: datetime) -> None:
    """Records rows as sent, in one statement."""
    if ids:
        with engine.begin() as connection:
            connection.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(ids))
                .values(
                    status=DeliveryStatus.SENT, sent_at=now, attempts=col(Delivery.attempts) + 1
                )
            )


def mark_retry(delivery: Delivery, *, wait: float, error: str, now: datetime) -> bool:
    """Puts a row back for a later try; False once it has had its attempts (then: failed)."""
    delivery.attempts += 1
    delivery.error = error[:300]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        return False
    backoff = max(wait, 2.0**delivery.attempts)
    delivery.status = DeliveryStatus.PENDING
    delivery.not_before = now + timedelta(seconds=backoff)
    return True


def mark_failed(delivery: Delivery, *, error: str) -> None:
    """A row refused for good."""
    delivery.attempts += 1
    delivery.status, delivery.error = DeliveryStatus.FAILED, error[:300]


def mark_unreachable(
    session: Session, delivery: Delivery, *, error: str, board: Target | None, now: datetime
) -> None:
    """The chat blocked the bot: the row and the chat's link are marked, the board told once."""
    delivery.attempts += 1
    delivery.status, delivery.error = DeliveryStatus.UNREACHABLE, error[:300]
    link = session.exec(
        select(ChatLink).where(
            ChatLink.channel == delivery.channel, ChatLink.chat_id == delivery.chat_id
        )
    ).first()
    if link is None:
        return
    link.reachable = False
    if board is not None:
        enqueue(
            session=session,
            key=f"unreachable:{link.id}:{link.linked_at.isoformat()}",
            kind="unreachable",
            target=board,
            now=now,
            payload={"contact": link.contact_id},
        )
