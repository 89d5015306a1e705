"""Sends what the outbox owes, paced, and records each outcome at once (restart-safe)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from scheduler.metrics import OUTBOX_MESSAGES
from storage import outbox
from storage.engine import session_for
from storage.models import Delivery, DeliveryStatus
from storage.outbox import Target

log = logging.getLogger(__name__)
FLUSH_EVERY = 0.1  # seconds between writes of sent rows
BATCH_SECONDS = 2.0  # a batch holds about this much sending at the pace


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text, buttons (token, label), an optional picture or document."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()
    image: Path | None = None
    document: Path | None = None
    document_name: str = ""
    document_id: str | None = None  # the channel's id of the same file: re-sent, not uploaded


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


Send = Callable[[str, Outgoing], Awaitable[SendResult]]  # (chat id, message) on one channel


@dataclass(frozen=True)
class Port:
    """How the outbox reaches one channel: its send function and its pace."""

    send: Send
    rate: float = 25.0  # messages a second on this channel, all chats together
    per_chat: float = 1.0  # at least this many seconds between two messages to one chat


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

    def __init__(
        self,
        rate: float,
        per_chat: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self.clock = clock
        self.sleep = sleep
        self.next_slot = clock()
        self.chat_ready: dict[str, float] = {}

    def reserve(self, chat: str) -> float:
        """Reserves the next send slot that respects both limits; returns the seconds until it."""
        now = self.clock()
        shared = max(self.next_slot, now)
        self.next_slot = shared + self.interval  # a chat waiting on itself does not hold others
        slot = max(shared, self.chat_ready.get(chat, 0.0))
        self.chat_ready[chat] = slot + self.per_chat
        return max(0.0, slot - now)

    async def wait(self, chat: str) -> None:
        """Reserves the next send slot and sleeps until it."""
        delay = self.reserve(chat)
        if delay > 0:
            await self.sleep(delay)


def _claim(
    engine: Engine, now: datetime, render: Render, limit: int
) -> list[tuple[int, str, str, Outgoing]]:
    """Claims due rows and renders them; rows no longer owed are cancelled here."""
    claimed: list[tuple[int, str, str, Outgoing]] = []
    with session_for(engine) as session:
        rows = outbox.due(session, now, limit)
        cancelled: list[int] = []
        for row, message in zip(rows, render(session, rows), strict=True):
            assert row.id is not None
            if message is None:
                cancelled.append(row.id)
            else:
                claimed.append((row.id, row.channel, row.chat_id, message))
        ids = [item[0] for item in claimed]
        outbox.set_status(session, ids, DeliveryStatus.CLAIMED, claimed_at=now)
        outbox.set_status(session, cancelled, DeliveryStatus.CANCELLED)
        session.commit()
    return claimed


class SentLog:
    """Records sent rows in small batches: at most FLUSH_SIZE sent-but-unrecorded at any time."""

    FLUSH_SIZE = 32

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock
        self.pending: list[int] = []

    async def add(self, row_id: int) -> None:
        """Notes a sent row; writes the batch once it is full (off the event loop)."""
        self.pending.append(row_id)
        if len(self.pending) >= self.FLUSH_SIZE:
            await asyncio.to_thread(self.flush)

    def flush(self) -> None:
        """Writes every noted row as sent, in one statement."""
        if not self.pending:
            return
        ids, self.pending = self.pending, []
        outbox.mark_sent(self.engine, ids, self.clock())


def _record(
    engine: Engine, row_id: int, result: SendResult, now: datetime, board: Target | None
) -> None:
    """Writes an outcome other than "sent"; a blocked chat: unreachable, the board told once."""
    with session_for(engine) as session:
        row = session.get(Delivery, row_id)
        if row is None:
            return
        if result.outcome == Outcome.RETRY:
            outbox.mark_retry(row, wait=result.retry_after, error=result.error, now=now)
        elif result.outcome == Outcome.BLOCKED:
            outbox.mark_unreachable(session, row, error=result.error, board=board, now=now)
        else:
            outbox.mark_failed(row, error=result.error)
        session.commit()


async def dispatch(
    engine: Engine,
    *,
    ports: Mapping[str, Port],
    render: Render,
    clock: Callable[[], datetime],
    board: Target | None = None,
    batch: int | None = None,
    concurrency: int = 16,
    stop: asyncio.Event | None = None,
    still_ours: Callable[[], bool] | None = None,
) -> Stats:
    """Sends every due row through its channel's port, each channel at its own pace, until none
    is due or ``stop`` is set; outcomes are saved as they come. A row for a channel with no port
    fails. On ``stop``, what is in flight finishes and is recorded; the rest goes back to the
    queue. ``still_ours`` is asked before each batch is claimed (the scheduler's lock): once it
    says no, this run ends as on a stop, so two processes never send side by side."""
    batch = batch or batch_for(sum(port.rate for port in ports.values()) or 1.0)
    stats = Stats()
    pacers = {name: Pacer(port.rate, port.per_chat) for name, port in ports.items()}
    gate = asyncio.Semaphore(concurrency)
    unsent: list[int] = []  # claimed rows left when told to stop

    def stopping() -> bool:
        return stop is not None and stop.is_set()

    async def until_slot_or_stop(seconds: float) -> None:
        """Sleeps until the row's slot; a stop ends the sleep at once."""
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def one(row_id: int, channel: str, chat_id: str, message: Outgoing) -> None:
        port = ports.get(channel)
        began = False  # once a send has begun, it may have reached the chat: not put back
        try:
            if port is not None and not stopping():
                delay = pacers[channel].reserve(chat_id)  # sleeping holds no sending slot
                if delay > 0:
                    await until_slot_or_stop(delay)
            if port is not None and stopping():
                unsent.append(row_id)
                return
            async with gate:
                if port is not None and stopping():  # told to stop while waiting for the gate
                    unsent.append(row_id)
                    return
                began = True
                if port is None:
                    result = SendResult(Outcome.FAILED, error=f"no sender for channel {channel}")
                else:
                    result = await port.send(chat_id, message)
        except asyncio.CancelledError:
            if not began:
                unsent.append(row_id)  # back to the queue in the finally below
            raise
        except Exception as error:  # a channel bug must not lose the row
            log.exception("sending delivery %s failed", row_id)
            result = SendResult(Outcome.RETRY, 5.0, repr(error))
        try:
            if result.outcome == Outcome.SENT:
                await sent_log.add(row_id)
            else:
                await asyncio.to_thread(_record, engine, row_id, result, clock(), board)
        except Exception:  # e.g. "database is locked": the claim is released later
            log.exception("recording delivery %s failed", row_id)
        setattr(stats, _COUNTER[result.outcome], getattr(stats, _COUNTER[result.outcome]) + 1)
        OUTBOX_MESSAGES.labels(channel, _COUNTER[result.outcome]).inc()

    async def flush_regularly() -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await asyncio.to_thread(sent_log.flush)

    sent_log = SentLog(engine, clock)
    flusher = asyncio.create_task(flush_regularly())
    following: asyncio.Task[list[tuple[int, str, str, Outgoing]]] | None = None
    try:
        claimed = await asyncio.to_thread(_claim, engine, clock(), render, batch)
        while claimed and not stopping():
            # Claim and render the next batch while this one is being sent.
            following = asyncio.create_task(
                asyncio.to_thread(_claim, engine, clock(), render, batch)
            )
            await asyncio.gather(*(one(*item) for item in claimed), return_exceptions=True)
            await asyncio.to_thread(sent_log.flush)
            claimed, following = await following, None
            if not claimed and not stopping():  # rows planned meanwhile, such as a board notice
                claimed = await asyncio.to_thread(_claim, engine, clock(), render, batch)
            if still_ours is not None and not await asyncio.to_thread(still_ours):
                log.warning("the scheduler lock was lost mid-run: this run stops here")
                unsent.extend(item[0] for item in claimed)
                claimed = []
        if stopping():  # a batch claimed but never begun
            unsent.extend(item[0] for item in claimed)
    finally:
        flusher.cancel()
        if following is not None:  # claimed but not sent: back to the queue at once
            rows = await asyncio.gather(following, return_exceptions=True)
            if isinstance(rows[0], list):
                unsent.extend(item[0] for item in rows[0])
        await asyncio.to_thread(outbox.unclaim, engine, unsent)
        await asyncio.to_thread(sent_log.flush)
    return stats


def batch_for(rate: float) -> int:
    """Rows per claim: about BATCH_SECONDS of sending, between 32 and 500.

    The next batch is rendered while this one is sent, so a contact who submits meanwhile can
    still be reminded once: small batches at a slow pace keep that window to a few seconds
    (at 25 messages/s: 50 rows, 2 s), large ones at a fast pace keep the claims cheap.
    """
    return max(32, min(500, int(rate * BATCH_SECONDS)))


_COUNTER = {
    Outcome.SENT: "sent",
    Outcome.RETRY: "retried",
    Outcome.BLOCKED: "blocked",
    Outcome.FAILED: "failed",
}
