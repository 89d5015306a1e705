"""The durable inbox: what a channel received, stored before it is acknowledged.

A delivery is stored in one transaction with the others of its batch before the channel
confirms it (the next getUpdates offset); the update that handles it marks it done in its own
transaction and keeps the answer; the answer is marked sent once it went out. After a crash a
restart handles what is not done and sends what was done but not answered: nothing received is
lost, and nothing is handled twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, delete, func, null, or_, select, text, update
from sqlalchemy.engine import Connection, Engine

from storage.models import Inbox
from storage.upsert import insert_ignore

_INBOX: Table = Inbox.__table__  # type: ignore[attr-defined]
_STORE = insert_ignore(_INBOX, ("channel", "chat_id", "key"), (_INBOX.c.key, _INBOX.c.id))
KEEP_ANSWERED = timedelta(days=7)
CLAIM_LEASE = timedelta(minutes=5)  # an answer claimed for sending this long ago was not sent
CHAT_LOCKS = 7_262_027  # first key of the (two-key) advisory locks of chats' turns
# Every update runs these two: built once (building a statement cost more than running it).
_OLDEST = (
    select(_INBOX.c.id, _INBOX.c.payload)
    .where(
        _INBOX.c.channel == bindparam("channel"),
        _INBOX.c.chat_id == bindparam("chat_id"),
        _INBOX.c.done_at.is_(None),
    )
    .order_by(_INBOX.c.id)
    .limit(2)
)
_DONE = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("row_id"), _INBOX.c.done_at.is_(None))
    .values(
        done_at=bindparam("now", type_=_INBOX.c.done_at.type),
        answer=bindparam("answer", type_=_INBOX.c.answer.type),
    )
)


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
    query = _undone(select(_INBOX.c.id, _INBOX.c.payload), channel, received_before)
    with engine.connect() as conn:
        return [(row_id, payload) for row_id, payload in conn.execute(query)]


def undone_chats(engine: Engine, channel: str, received_before: datetime) -> list[str]:
    """The chats with deliveries stored before a moment and not yet handled, in the order of
    their oldest."""
    query = _undone(select(_INBOX.c.chat_id), channel, received_before)
    with engine.connect() as conn:
        return list(dict.fromkeys(conn.execute(query).scalars()))


def _undone(query: Select[Any], channel: str, received_before: datetime | None) -> Select[Any]:
    """``query`` narrowed to the channel's deliveries not yet handled, oldest first."""
    query = query.where(_INBOX.c.channel == channel, _INBOX.c.done_at.is_(None))
    if received_before is not None:
        query = query.where(_INBOX.c.received_at < received_before)
    return query.order_by(_INBOX.c.id)


def unanswered(engine: Engine, channel: str) -> list[tuple[int, str, dict[str, object]]]:
    """Deliveries handled whose answer was not recorded as sent, oldest first."""
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


def lock_chat(conn: Connection, channel: str, chat_id: str) -> None:
    """Takes the chat's turn until the transaction ends: on PostgreSQL several processes share
    the chats, and one chat's deliveries are handled one after another, in order of arrival
    (SQLite has one writer: its write lock is the turn)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:chat))"),
            {"space": CHAT_LOCKS, "chat": f"{channel}:{chat_id}"},
        )


def oldest_undone(
    conn: Connection, channel: str, chat_id: str
) -> tuple[int, dict[str, object], bool] | None:
    """The chat's first delivery not yet handled, whichever process stored it: its id, its
    payload, and whether more wait after it."""
    rows = conn.execute(_OLDEST, {"channel": channel, "chat_id": chat_id}).all()
    return (rows[0][0], rows[0][1], len(rows) > 1) if rows else None


def claim_unanswered(
    engine: Engine,
    channel: str,
    done_before: datetime,
    now: datetime,
    skip: Collection[int] = (),
) -> list[tuple[int, str, dict[str, object]]]:
    """Deliveries handled before a moment whose answer was never sent (a crash came between),
    oldest first, claimed so that no other process sends them too. A claim is ``answered_at``
    with the answer still kept (``mark_answered`` drops it once sent); one older than
    CLAIM_LEASE was not sent (its process died, or the network failed) and is taken again."""
    free = or_(
        _INBOX.c.answered_at.is_(None),
        and_(_INBOX.c.answered_at < now - CLAIM_LEASE, _INBOX.c.answer.is_not(None)),
    )
    waiting = select(_INBOX.c.id).where(
        _INBOX.c.channel == channel, _INBOX.c.done_at < done_before, free
    )
    if skip:  # this process's own answers going out now
        waiting = waiting.where(_INBOX.c.id.not_in(list(skip)))
    with engine.begin() as conn:
        claimed = conn.execute(
            update(_INBOX)
            .where(_INBOX.c.id.in_(waiting.scalar_subquery()), free)
            .values(answered_at=now)
            .returning(_INBOX.c.id, _INBOX.c.chat_id, _INBOX.c.answer)
        )
        rows = sorted((row_id, chat, answer or {}) for row_id, chat, answer in claimed)
    return rows


def mark_done(conn: Connection, inbox_id: int, answer: dict[str, object], now: datetime) -> bool:
    """Marks a delivery handled, in the transaction of its effects, keeping its answer; False
    when it was handled already (another worker's turn came in between)."""
    done = conn.execute(_DONE, {"row_id": inbox_id, "now": now, "answer": answer})
    return bool(done.rowcount)


def count_attempt(conn: Connection, inbox_id: int) -> int:
    """One more failed attempt at a delivery; how many there were."""
    counted = conn.execute(
        update(_INBOX)
        .where(_INBOX.c.id == inbox_id)
        .values(attempts=_INBOX.c.attempts + 1)
        .returning(_INBOX.c.attempts)
    )
    return int(counted.scalar_one())


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
