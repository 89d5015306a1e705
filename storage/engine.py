"""Engine factory: one place that knows SQLite and PostgreSQL connection quirks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Builds an engine with WAL, foreign keys and a busy timeout on SQLite, psycopg 3 on PG."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        echo=echo,
        pool_pre_ping=True,
        pool_size=20,  # the core's threads, the outbox's, the scheduler lock, the checkpoints
        max_overflow=20,
        # A dropped server or network is noticed within about a minute, not TCP's 15: the
        # scheduler lock's connection is checked before each run and must not hang.
        connect_args={"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                      "keepalives_count": 3, "tcp_user_timeout": 60_000},
    )  # fmt: skip


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Sets per-connection pragmas: concurrent readers, enforced foreign keys, waiting writers."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WalCheckpointer:
    """Copies a SQLite database's write-ahead log into it from a thread of its own.

    Left to itself, SQLite checkpoints inside whichever commit grows the log past 1,000 pages,
    and that chat's answer waits for the copy and its fsync (up to 100 ms on a small VM). The
    long-running service switches that off and checkpoints every ``every`` seconds instead;
    commands that run briefly keep SQLite's default. On PostgreSQL this does nothing.
    """

    def __init__(self, engine: Engine, *, every: float = 1.0) -> None:
        self.engine = engine
        self.every = every
        self.runs = 0
        self.last: tuple[int, int, int] | None = None  # busy, log frames, frames checkpointed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WalCheckpointer:
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _manual_checkpoints)
            self.engine.dispose()  # pooled connections reopen with automatic checkpoints off
            self._thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self.checkpoint("TRUNCATE")  # leaves an empty log behind
        event.remove(self.engine, "connect", _manual_checkpoints)
        self.engine.dispose()  # connections made from now on checkpoint by themselves again

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        """One checkpoint; PASSIVE never waits for readers or writers."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").one()
        self.runs += 1
        self.last = (int(row[0]), int(row[1]), int(row[2]))

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.checkpoint()
            except Exception:  # a locked or busy database: the next round tries again
                log.warning("WAL checkpoint failed; retrying in %s s", self.every, exc_info=True)


def _manual_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def begin_update(conn: Connection) -> None:
    """Starts the update's transaction now, with the write lock on SQLite.

    pysqlite would begin only at the first write: a SAVEPOINT before it would be the outermost
    transaction, and its RELEASE would commit the update halfway. Taking the lock at once also
    spares a read-then-write update the "database is locked" SQLite answers without waiting
    when another write came in between.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def trial(session: Session, *, keep: bool) -> Iterator[None]:
    """Work inside a savepoint: undone if it raises, and undone anyway unless ``keep`` (a dry
    run), so a refused or previewed file leaves the caller's transaction as it was."""
    savepoint = session.begin_nested()
    try:
        yield
    except BaseException:
        savepoint.rollback()
        raise
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


def session_for(engine: Engine) -> Session:
    """Opens a session whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)


def write_session(engine: Engine, *, on_wait: Callable[[], None] | None = None) -> Session:
    """A session for a command that writes beside the running service: on SQLite each of its
    transactions takes the write lock at its start, waiting for it (a deferred one that read
    first is refused at its first write, whatever the busy timeout, once the service wrote
    meanwhile). ``on_wait`` is called when the lock is not free within WAIT_NOTICE seconds."""
    session = session_for(engine)
    if engine.dialect.name == "sqlite":
        event.listen(session, "after_begin", partial(_take_write_lock, on_wait))
    return session


WAIT_NOTICE = 2.0
WAIT_AT_MOST = 600.0


def _take_write_lock(
    on_wait: Callable[[], None] | None,
    _session: Session,
    transaction: SessionTransaction,
    connection: Connection,
) -> None:
    if transaction.nested:
        return
    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(WAIT_NOTICE * 1000)}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError:
        if on_wait is not None:
            on_wait()
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(WAIT_AT_MOST * 1000)}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql("PRAGMA busy_timeout=30000")
