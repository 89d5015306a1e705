"""What every channel does after the core answered a stored delivery: the answer's row recorded
as sent (with others, in one statement), and the look-back that takes up what a crash, the
database or the network left (answers kept but not sent, deliveries stored but not handled)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from bot.core.engine import Core
from bot.core.types import Result, result_of
from storage import inbox

log = logging.getLogger(__name__)
FINISH_EVERY = 0.2  # seconds: answered inbox rows are recorded in one statement this often
RETRY_FINISH = 5.0  # seconds: again, when the database was away
GRACE = timedelta(seconds=30)  # a delivery left unhandled this long is taken up again
ANSWER_GRACE = timedelta(minutes=2)  # an answer left unsent this long is sent again
# A call whose connection was refused, reset or closed before the platform answered is tried
# again after each of these waits, rather than left for the look-back minutes later. A timeout,
# an answer cut midway or a 5xx is not: the platform may have taken that message, and the
# person would get it twice.
NETWORK_RETRIES = (1.0, 3.0)
Answer = Callable[[str, Result, int], Awaitable[None]]  # chat, kept answer, inbox row


class Answered:
    """Inbox rows whose answer is going out or went out, not yet recorded: recorded within
    FINISH_EVERY in one statement (a crash in between sends that answer again at the next start,
    never loses it), kept while the database is away, and never for the look-back to send."""

    def __init__(self, core: Core, worker: Executor) -> None:
        self.core = core
        self.worker = worker  # the channel's core thread: on SQLite the write takes its turn
        self.sending: set[int] = set()
        self.finished: set[int] = set()
        self._finisher: asyncio.Task[None] | None = None

    @contextmanager
    def going_out(self, inbox_id: int | None) -> Iterator[None]:
        """While the answer of this row is being sent."""
        if inbox_id is None:
            yield
            return
        self.sending.add(inbox_id)
        try:
            yield
        finally:
            self.sending.discard(inbox_id)

    def done(self, inbox_id: int | None) -> None:
        """Nothing is left to do for this delivery: recorded with others soon."""
        if inbox_id is None:
            return
        self.finished.add(inbox_id)
        if self._finisher is None or self._finisher.done():
            self._finisher = asyncio.create_task(self._finish_soon())

    async def _finish_soon(self, delay: float = FINISH_EVERY) -> None:
        await asyncio.sleep(delay)
        if not await self.flush():  # the database away: kept, and tried again
            self._finisher = asyncio.create_task(self._finish_soon(RETRY_FINISH))

    async def flush(self) -> bool:
        """Records every finished row now (also at stop); False, the rows kept for the next
        time, if the database is away."""
        ids = sorted(self.finished)
        if not ids:
            return True
        try:
            await asyncio.get_running_loop().run_in_executor(
                self.worker, partial(self.core.finish, ids)
            )
        except Exception as error:
            log.warning("could not record %s answers as sent: %r", len(ids), error)
            return False
        self.finished.difference_update(ids)
        return True

    async def close(self) -> None:
        """At stop: the waiting write is not left behind, and everything finished is recorded
        now (what cannot be is sent again at the next start, never lost)."""
        if self._finisher is not None and not self._finisher.done():
            self._finisher.cancel()
            await asyncio.gather(self._finisher, return_exceptions=True)
        await self.flush()

    def in_hand(self) -> set[int]:
        """Rows whose answer is going out or went out, not yet recorded."""
        return self.sending | self.finished


async def recover(
    channel: str, core: Core, answered: Answered, answer: Answer, *, at_start: bool = False
) -> list[str]:
    """What a crash (or the database away) left: answers handled but not sent go out — at the
    start on SQLite all from before it, otherwise those older than ANSWER_GRACE (another worker
    may be sending the younger), never this process's own in hand; returns the chats with
    deliveries stored but not handled, for the channel to take up (their turn makes that safe
    beside other workers)."""
    engine, now = core.engine, core.clock()
    if at_start:
        await asyncio.to_thread(inbox.prune, engine, now)
    alone = at_start and engine.dialect.name == "sqlite"
    done_before = now + GRACE if alone else now - ANSWER_GRACE  # alone: all from before
    claim = partial(inbox.claim_unanswered, engine, channel, done_before, now, answered.in_hand())
    for row_id, chat_id, kept in await asyncio.to_thread(claim):
        try:
            await answer(chat_id, result_of(kept), row_id)
        except Exception:  # one answer that cannot be sent holds no other
            log.exception("could not send the kept answer of %s inbox row %s", channel, row_id)
    received_before = now + GRACE if at_start else now - GRACE
    return await asyncio.to_thread(inbox.undone_chats, engine, channel, received_before)


async def look_back(channel: str, recover_now: Callable[[], Awaitable[object]]) -> None:
    """Every GRACE, takes up what was left: deliveries the database was away for, answers the
    network refused, and on PostgreSQL what a worker that died had in hand."""
    while True:
        await asyncio.sleep(GRACE.total_seconds())
        try:
            await recover_now()
        except Exception as error:  # the database still away: next time
            log.warning("could not look back at the %s inbox: %r", channel, error)
