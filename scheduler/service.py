"""The reminder service: APScheduler says when to look, the database says what is owed.

It is handed its ports by the composition root (one per channel, each with its pace), the
renderer of outbox rows and the board's chat; it knows no channel and no settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from scheduler import dispatcher, planner
from scheduler.dispatcher import Port, Render, Stats
from storage import outbox
from storage.engine import session_for
from storage.outbox import Target

log = logging.getLogger(__name__)
STOP_WAIT = 30.0  # seconds a stop waits for the sends in flight to finish and be recorded
LOCK_KEY = 7_262_026  # pg_advisory_lock key of "the one scheduler of this database"


class ReminderService:
    """Plans and sends reminders and digests; one instance per deployment."""

    def __init__(
        self,
        *,
        engine: Engine,
        ports: Mapping[str, Port],
        render: Render,
        clock: Callable[[], datetime],
        tz: ZoneInfo,
        board: Target | None = None,
        nightly: Callable[[datetime], object] | None = None,
        nightly_at: tuple[int, int] = (2, 30),
    ) -> None:
        self.engine = engine
        self.nightly = nightly  # e.g. the backup, once a night, by the scheduling process only
        self.nightly_at = nightly_at
        self.ports = ports
        self.render = render
        self.clock = clock
        self.tz = tz
        self.board = board
        self._lock: Connection | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[Stats] | None = None  # the run in progress, if any

    def plan(self, now: datetime) -> int:
        """Adds what is due at ``now`` to the outbox; returns how many rows it considered."""
        with session_for(self.engine) as session:
            rows = planner.plan(session=session, now=now, tz=self.tz, board=self.board)
            session.commit()
        return len(rows)

    async def run_once(self) -> Stats:
        """Plans, then sends everything due; claims left by a failed run are freed first."""
        self._running = asyncio.current_task()
        if self._stopping.is_set() or not await asyncio.to_thread(self.holds_lock):
            return Stats()
        await asyncio.to_thread(outbox.release_claims, self.engine, self.clock())
        await asyncio.to_thread(self.plan, self.clock())
        stats = await dispatcher.dispatch(
            self.engine,
            ports=self.ports,
            render=self.render,
            clock=self.clock,
            board=self.board,
            stop=self._stopping,
            still_ours=self.holds_lock,
        )
        if stats.sent or stats.blocked or stats.failed:
            log.info(
                "outbox: %s sent, %s blocked, %s failed, %s retried, %s cancelled",
                stats.sent,
                stats.blocked,
                stats.failed,
                stats.retried,
                stats.cancelled,
            )
        return stats

    def acquire(self) -> bool:
        """Takes the deployment's scheduler lock (PostgreSQL advisory lock; SQLite: one process)."""
        if self.engine.dialect.name != "postgresql":
            return True
        # A session-level lock on a connection of its own, outside any transaction.
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:  # the server is away: no lock, and no scheduling, for now
            log.warning("could not reach the database for the scheduler lock; trying again later")
            return False
        try:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
            if taken.scalar():
                self._lock = connection
                return True
        except Exception:
            log.warning("could not ask for the scheduler lock; trying again later")
        connection.close()
        return False

    def holds_lock(self) -> bool:
        """Whether this process schedules now: on PostgreSQL only while it holds the lock.

        The lock lives as long as its connection: a server restart or a dropped connection ends
        it, and another process may take it. So before each run the connection is checked; a
        lost one is let go and the lock asked for again, which only one process can get. Claims
        a predecessor left are freed by the runs, once stale: it may still be sending its last
        batch (it checks the lock before each one).
        """
        if self.engine.dialect.name != "postgresql":
            return True
        if self._lock is not None:
            try:
                self._lock.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("the scheduler lock's connection was lost; asking for the lock again")
                self._lock.invalidate()
                self._lock.close()
                self._lock = None
        if not self.acquire():
            return False
        log.info("this process now runs the reminder scheduler")
        return True

    def start(self) -> bool:
        """Starts the minute job on the running loop; each run first checks this process holds
        the lock (so a second process takes over when the first is gone, never alongside it).
        Returns whether it holds the lock now."""
        holding = self.holds_lock()
        if not holding:
            log.warning("another process runs the reminder scheduler; this one stands by")
        self._scheduler = AsyncIOScheduler(timezone=self.tz)
        self._scheduler.add_job(
            self.run_once,
            "interval",
            minutes=1,
            next_run_time=datetime.now(self.tz),
            max_instances=1,
            coalesce=True,
            id="outbox",
        )
        if self.nightly is not None:
            hour, minute = self.nightly_at
            self._scheduler.add_job(
                self.run_nightly, "cron", hour=hour, minute=minute, max_instances=1,
                coalesce=True, misfire_grace_time=3600, id="nightly",
            )  # fmt: skip
        self._scheduler.start()
        return holding

    async def run_nightly(self) -> None:
        """The nightly job, in a thread, if this process schedules (one per deployment)."""
        if self.nightly is None or self._stopping.is_set():
            return
        if not await asyncio.to_thread(self.holds_lock):
            return
        try:
            await asyncio.to_thread(self.nightly, self.clock())
        except Exception:
            log.exception("the nightly job failed; it runs again tomorrow")

    def kick(self) -> None:
        """Runs the outbox job as soon as possible (a board notice was just queued)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.modify_job("outbox", next_run_time=datetime.now(self.tz))

    async def stop(self) -> None:
        """Stops the job: the run in progress finishes what is in flight and records it (the rest
        goes back to the queue), then the lock is released."""
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.pause()  # no new run; shutting down now would cancel the running one
        running = self._running
        if running is not None and not running.done() and running is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(running), STOP_WAIT)
            except TimeoutError:
                log.warning("the outbox run did not finish within %s s of the stop", STOP_WAIT)
                running.cancel()  # its cleanup (rows put back, sent ones recorded) is awaited
                await asyncio.gather(running, return_exceptions=True)  # before the lock goes
            except Exception as error:  # the run's own failure, which APScheduler logs in full
                log.info("the outbox run ended with %r at the stop", error)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.release()

    def release(self) -> None:
        """Gives the scheduler lock back (PostgreSQL), so another process may schedule."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:  # a pooled connection outlives close(): the lock is given back explicitly
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        except Exception:  # the connection is gone, and the server released the lock with it
            log.warning("the scheduler lock's connection was lost; the server has released it")
            lock.invalidate()
        finally:
            lock.close()
