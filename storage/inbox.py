"""The durable inbox: what a channel received, stored before it is acknowledged.

A delivery is stored in one transaction with the others of its batch before the channel
confirms it (the next getUpdates offset); the update that handles it marks it done in its own
transaction and keeps the answer; the answer is marked sent once it went out. After a crash a
restart handles what is not done and sends what was done but not answered: nothing received is
lost, and nothing is handled twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, func, null, select, update
from sqlalchemy.engine import Connection, Engine

from storage.models import Inbox
from storage.upsert import insert_ignore

_INBOX: Table = Inbox.__table__  # type: ignore[attr-defined]
_STORE = insert_ignore(_INBOX, ("channel", "chat_id", "key"), (_INBOX.c.key, _INBOX.c.id))
KEEP_ANSWERED = timedelta(days=7)


def store(
    engine: Engine, channel: str, items: Sequence[tuple[str, str, dict[str, object]]], now: datetime
) -> dict[str, int]:
    """Stores (chat, key, payload) deliveries in one transaction; returns the ids of those new
    (by key): one delivered again, already stored, is not handled twice."""
    if not items:
        return {}
    rows = [
        {"channel": channel, "chat_id": chat, "key": key, "payload": payload, "received_at": now}
        for chat, key, payload in items
    ]
    with engine.begin() as conn:  # RETURNING gives the rows inserted, not those skipped
        stored = conn.execute(_STORE.on(conn), rows[0] if len(rows) == 1 else rows)
        return {key: row_id for key, row_id in stored}


def undone(
    engine: Engine, channel: str, received_before: datetime | None = None
) -> list[tuple[int, dict[str, object]]]:
    """Deliveries stored but not handled (a crash, or the database away, came between), oldest
    first; only those received before a moment, if given."""
    query = (
        select(_INBOX.c.id, _INBOX.c.payload)
        .where(_INBOX.c.channel == channel, _INBOX.c.done_at.is_(None))
        .order_by(_INBOX.c.id)
    )
    if received_before is not None:
        query = query.where(_INBOX.c.received_at < received_before)
    with engine.connect() as conn:
        return [(row_id, payload) for row_id, payload in conn.execute(query)]


def unanswered(engine: Engine, channel: str) -> list[tuple[int, str, dict[str, object]]]:
    """Deliveries handled whose answer was not sent (a crash came between), oldest first."""
    query = (
        select(_INBOX.c.id, _INBOX.c.chat_id, _INBOX.c.answer)
        .where(
            _INBOX.c.channel == channel,
            _INBOX.c.done_at.is_not(None),
            _INBOX.c.answered_at.is_(None),
        )
        .order_by(_INBOX.c.id)
    )
    with engine.connect() as conn:
        return [(row_id, chat, answer or {}) for row_id, chat, answer in conn.execute(query)]


def mark_done(conn: Connection, inbox_id: int, answer: dict[str, object], now: datetime) -> None:
    """Marks a delivery handled, in the transaction of its effects, keeping its answer."""
    conn.execute(
        update(_INBOX).where(_INBOX.c.id == inbox_id).values(done_at=now, answer=answer)
    )


def mark_answered(engine: Engine, inbox_ids: Sequence[int], now: datetime) -> None:
    """The answers went out (or there was none to give): nothing is left for these deliveries."""
    if not inbox_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(_INBOX)
            .where(_INBOX.c.id.in_(list(inbox_ids)))
            .values(answered_at=now, answer=null(), done_at=func.coalesce(_INBOX.c.done_at, now))
        )


def prune(engine: Engine, now: datetime) -> int:
    """Deletes deliveries answered more than a week ago (the inbox is not an archive)."""
    with engine.begin() as conn:
        result = conn.execute(delete(_INBOX).where(_INBOX.c.answered_at < now - KEEP_ANSWERED))
        return int(result.rowcount)
