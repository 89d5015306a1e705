"""Engine factory: one place that knows SQLite and PostgreSQL connection quirks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine


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
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Sets per-connection pragmas: concurrent readers, enforced foreign keys, waiting writers."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
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


def session_for(engine: Engine) -> Session:
    """Opens a session whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)
