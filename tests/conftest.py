"""Real databases for every storage test: a SQLite file and a PostgreSQL database of our own."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from storage.engine import make_engine, session_for
from storage.migrate import upgrade

os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB 22's opt-in: RetryAfter.retry_after as timedelta
PG_SERVER_URL = os.environ.get(
    "THIDUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 08:30 Monday 02/03/2026 in Hà Nội


def _pg_admin() -> Engine:
    return make_engine(PG_SERVER_URL).execution_options(isolation_level="AUTOCOMMIT")


def pg_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with _pg_admin().connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # the reason is shown in the skip or failure
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database for this run; returns its URL."""
    name = f"thidua_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server URL; fails under CI when it is down, skips elsewhere."""
    reason = pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER_URL}: {reason}")
    return PG_SERVER_URL


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind named by the test's ``backend`` parameter."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("pg_server")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "head.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated(request: pytest.FixtureRequest) -> Iterator[Engine]:
    request.getfixturevalue("pg_server")
    url = create_pg_database()
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database with no rows, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        sqlite_engine = make_engine(f"sqlite:///{path}")
        yield sqlite_engine
        sqlite_engine.dispose()
        return
    pg_engine: Engine = request.getfixturevalue("_pg_migrated")
    yield pg_engine
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_for(engine) as db_session:
        yield db_session
