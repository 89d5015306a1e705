"""A whole deployment in one archive (the database and the document store), taken while the
service runs, and restored onto an empty deployment.

SQLite is copied with its online backup API (a consistent snapshot, writers wait at most a
page step); PostgreSQL with ``pg_dump`` (custom format), restored with ``pg_restore``. Stored
documents are named by their content and never rewritten: copied after the database's snapshot,
every document the snapshot names is there.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, literal, select, table, text
from sqlalchemy.engine import URL, Engine

from storage.files import digest
from storage.xlsx import whole_file

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
FILES = "files"  # the document store under the data directory, and in the archive
PEOPLE_TABLES = ("enterprise", "contact", "campaign")  # any row: the deployment is not empty
NIGHTLY_PREFIX = "thidua-"


class BackupError(Exception):
    """A backup or restore refused for a reason the message layer can name."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Summary:
    """What an archive holds."""

    database: str  # "sqlite" or "postgresql"
    revision: str | None
    documents: int
    created_at: str


def backup(engine: Engine, data_dir: Path, target: Path, now: datetime) -> Summary:
    """Writes the archive to ``target`` (whole or not at all)."""
    kind = engine.dialect.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as scratch:
        if kind == "sqlite":
            database = Path(scratch) / SQLITE_NAME
            _sqlite_copy(engine, database)
        elif kind == "postgresql":
            database = Path(scratch) / PG_NAME
            _pg_dump(engine.url, database)
        else:
            raise BackupError("backup_unsupported_database", kind=kind)
        store = data_dir / FILES
        documents = sorted(p for p in store.rglob("*") if p.is_file()) if store.is_dir() else []
        summary = Summary(kind, _revision(engine), len(documents), now.isoformat())
        manifest = Path(scratch) / MANIFEST
        manifest.write_text(json.dumps({"format": FORMAT, **summary.__dict__}, indent=2))
        with whole_file(target) as part, tarfile.open(part, "w:gz") as archive:
            archive.add(manifest, MANIFEST)
            archive.add(database, database.name)
            for document in documents:
                archive.add(document, f"{FILES}/{document.relative_to(store).as_posix()}")
    return summary


def read_summary(source: Path) -> Summary:
    """The archive's manifest; a file that is not one of our archives is refused."""
    try:
        with tarfile.open(source, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            found = json.loads(member.read())
    except (OSError, tarfile.TarError, EOFError, zlib.error, KeyError, ValueError):
        raise BackupError("backup_unreadable", path=str(source)) from None
    if found.get("format") != FORMAT:
        raise BackupError("backup_unreadable", path=str(source))
    return Summary(found["database"], found["revision"], found["documents"], found["created_at"])


def restore(engine: Engine, data_dir: Path, source: Path) -> Summary:
    """Puts an archive's database and documents in place of an empty deployment's (its
    schema may be created already, but it holds no enterprise, contact or campaign)."""
    summary = read_summary(source)
    if summary.database != engine.dialect.name:
        raise BackupError(
            "restore_other_database", archive=summary.database, here=engine.dialect.name
        )
    store = data_dir / FILES
    if _holds_data(engine) or (store.is_dir() and any(store.iterdir())):
        raise BackupError("restore_not_empty")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as scratch:
        try:
            with tarfile.open(source, "r:gz") as archive:
                documents = _extract(archive, Path(scratch))
        except (tarfile.TarError, EOFError, zlib.error, OSError):  # cut short, or damaged
            raise BackupError("backup_unreadable", path=str(source)) from None
        if summary.database == "sqlite":
            _sqlite_replace(engine, Path(scratch) / SQLITE_NAME)
        else:
            _pg_restore(engine.url, Path(scratch) / PG_NAME)
        for relative in documents:
            if digest(Path(scratch) / FILES / relative) != relative.name:
                raise BackupError("backup_unreadable", path=f"{FILES}/{relative.as_posix()}")
        for relative in documents:
            placed = store / relative
            placed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(scratch) / FILES / relative, placed)
    return summary


def nightly(engine: Engine, data_dir: Path, folder: Path, keep_days: int, now: datetime) -> Path:
    """Tonight's archive in ``folder``; archives older than ``keep_days`` are deleted."""
    target = folder / f"{NIGHTLY_PREFIX}{now:%Y%m%d-%H%M}.tar.gz"
    backup(engine, data_dir, target, now)
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    for old in folder.glob(f"{NIGHTLY_PREFIX}*.tar.gz"):
        if old != target and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return target


def _sqlite_copy(engine: Engine, target: Path) -> None:
    """SQLite's online backup: a consistent copy while others write."""
    database = engine.url.database
    assert database and database != ":memory:"
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=1024)  # in steps: a writer waits for one step at most
    finally:
        copy.close()
        source.close()


def _sqlite_replace(engine: Engine, restored: Path) -> None:
    """The restored file becomes the database file (the engine's connections closed first)."""
    check = sqlite3.connect(restored)
    try:
        if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError("backup_unreadable", path=str(restored))
    finally:
        check.close()
    database = engine.url.database
    assert database and database != ":memory:"
    engine.dispose()
    for leftover in ("-wal", "-shm"):
        Path(database + leftover).unlink(missing_ok=True)
    shutil.move(restored, database)


def _pg_command(name: str, url: URL) -> tuple[list[str], dict[str, str]]:
    """The client program and its environment: the password in PGPASSWORD, never in argv."""
    program = shutil.which(name)
    plain = url.set(drivername="postgresql", password=None)
    if program is None:
        raise BackupError(
            "backup_needs_pg_tools", program=name, url=plain.render_as_string(hide_password=True)
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return [program, "--dbname", plain.render_as_string(hide_password=False)], env


def _pg_dump(url: URL, target: Path) -> None:
    command, env = _pg_command("pg_dump", url)
    _run([*command, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], env)


def _pg_restore(url: URL, dump: Path) -> None:
    command, env = _pg_command("pg_restore", url)
    _run([*command, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", str(dump)], env)  # fmt: skip


def _run(command: list[str], env: dict[str, str]) -> None:
    # argv of our own: the client program found on PATH, the database URL, our file names
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise BackupError("backup_tool_failed", program=Path(command[0]).name,
                          error=done.stderr.strip()[-300:])  # fmt: skip


def _revision(engine: Engine) -> str | None:
    """The schema's migration, so a restore knows what it brings back."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _holds_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        return any(
            conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None
            for name in PEOPLE_TABLES
            if name in tables
        )


def _extract(archive: tarfile.TarFile, scratch: Path) -> list[Path]:
    """Extracts the database and the documents into ``scratch``, refusing any other member,
    link or path that would leave it; returns the documents' paths under files/."""
    documents: list[Path] = []
    for member in archive.getmembers():
        name = Path(member.name)
        if member.name == MANIFEST:
            continue
        if not member.isfile() or name.is_absolute() or ".." in name.parts:
            raise BackupError("backup_unreadable", path=member.name)
        if name.parts[0] == FILES and len(name.parts) > 1:
            documents.append(Path(*name.parts[1:]))
        elif member.name not in (SQLITE_NAME, PG_NAME):
            raise BackupError("backup_unreadable", path=member.name)
        source = archive.extractfile(member)
        assert source is not None
        placed = scratch / name
        placed.parent.mkdir(parents=True, exist_ok=True)
        with placed.open("wb") as out:
            shutil.copyfileobj(source, out)
    return documents
