"""Sends what the outbox owes, paced, and records each outcome at once (restart-safe)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.planner import Target, enqueue
from storage.engine import session_for
from storage.models import ChatLink, Delivery, DeliveryStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text, buttons (token, label), an optional picture."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()
    image: Path | None = None


class Outcome(StrEnum):
    """What the channel answered."""

    SENT = "sent"
    RETRY = "retry"  # flood limit or network trouble: try again after ``retry_after``
    BLOCKED = "blocked"  # the person blocked the bot
    FAILED = "failed"  # refused for good (a bad request)


@dataclass(frozen=True)
class SendResult:
    """The channel's answer to one message."""

    outcome: Outcome
    retry_after: float = 0.0
    error: str = ""


Send = Callable[[str, str, Outgoing], Awaitable[SendResult]]
Render = Callable[[Session, list[Delivery]], list[Outgoing | None]]  # None: cancel, not owed


@dataclass
class Stats:
    """What one dispatch run did."""

    sent: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0
    cancelled: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        """Messages sent per second of this run."""
        return self.sent / max(time.monotonic() - self.started, 1e-9)


class Pacer:
    """At most ``rate`` messages a second overall and one per ``per_chat`` seconds to a chat."""

    def __init__(self, rate: float, per_chat: float) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self.next_slot = time.monotonic()
        self.chat_ready: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        """Reserves the next send slot that respects both limits, and sleeps until it."""
        now = time.monotonic()
        shared = max(self.next_slot, now)
        self.next_slot = shared + self.interval  # a chat waiting on itself does not hold others
        slot = max(shared, self.chat_ready.get(chat, 0.0))
        self.chat_ready[chat] = slot + self.per_chat
        if slot > now:
            await asyncio.sleep(slot - now)


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


def _claim(
    engine: Engine, now: datetime, render: Render, limit: int
) -> list[tuple[int, str, str, Outgoing]]:
    """Claims due rows and renders them; rows no longer owed are cancelled here."""
    claimed: list[tuple[int, str, str, Outgoing]] = []
    with session_for(engine) as session:
        rows = session.exec(
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, col(Delivery.not_before) <= now)
            .order_by(col(Delivery.not_before), col(Delivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row, message in zip(rows, render(session, list(rows)), strict=True):
            assert row.id is not None
            if message is None:
                row.status = DeliveryStatus.CANCELLED
                continue
            row.status, row.claimed_at = DeliveryStatus.CLAIMED, now
            claimed.append((row.id, row.channel, row.chat_id, message))
        session.commit()
    return claimed


def _record(
    engine: Engine, row_id: int, result: SendResult, now: datetime, board: Target | None
) -> None:
    """Writes one outcome; a blocked chat is marked unreachable and the board told once."""
    with session_for(engine) as session:
        row = session.get(Delivery, row_id)
        if row is None:
            return
        row.attempts += 1
        if result.outcome == Outcome.SENT:
            row.status, row.sent_at = DeliveryStatus.SENT, now
        elif result.outcome == Outcome.RETRY and row.attempts < MAX_ATTEMPTS:
            backoff = max(result.retry_after, 2.0**row.attempts)
            row.status, row.not_before = DeliveryStatus.PENDING, now + timedelta(seconds=backoff)
            row.error = result.error[:300]
        elif result.outcome == Outcome.BLOCKED:
            row.status, row.error = DeliveryStatus.UNREACHABLE, result.error[:300]
            link = session.exec(
                select(ChatLink).where(
                    ChatLink.channel == row.channel, ChatLink.chat_id == row.chat_id
                )
            ).first()
            if link is not None:
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
        else:
            row.status, row.error = DeliveryStatus.FAILED, result.error[:300]
        session.commit()


async def dispatch(
    engine: Engine,
    *,
    send: Send,
    render: Render,
    clock: Callable[[], datetime],
    rate: float = 25.0,
    per_chat: float = 1.0,
    board: Target | None = None,
    batch: int = 200,
    concurrency: int = 16,
) -> Stats:
    """Sends every due row, paced, until none is due; each outcome is saved before the next."""
    stats = Stats()
    pacer = Pacer(rate, per_chat)
    gate = asyncio.Semaphore(concurrency)

    async def one(row_id: int, channel: str, chat_id: str, message: Outgoing) -> None:
        async with gate:
            await pacer.wait(f"{channel}:{chat_id}")
            try:
                result = await send(channel, chat_id, message)
            except Exception as error:  # a channel bug must not lose the row
                log.exception("sending delivery %s failed", row_id)
                result = SendResult(Outcome.RETRY, 5.0, repr(error))
            _record(engine, row_id, result, clock(), board)
            setattr(stats, _COUNTER[result.outcome], getattr(stats, _COUNTER[result.outcome]) + 1)

    while True:
        claimed = await asyncio.to_thread(_claim, engine, clock(), render, batch)
        if not claimed:
            return stats
        await asyncio.gather(*(one(*item) for item in claimed))


_COUNTER = {
    Outcome.SENT: "sent",
    Outcome.RETRY: "retried",
    Outcome.BLOCKED: "blocked",
    Outcome.FAILED: "failed",
}
