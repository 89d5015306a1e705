"""A running deployment's backup, restored onto an empty one, holds what the original held at
the snapshot; a restore never overwrites data; a damaged archive is refused."""

from __future__ import annotations

import os
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.cli import main
from storage import backup, files, inbox
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from tests.conftest import NOW, create_pg_database, drop_pg_database
from tests.factories import pdf_bytes, seed_world

WRITTEN_MEANWHILE = {"inbox", "audit_event", "conversation"}  # by the service, and the CLI


def _deployment(folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's settings for one deployment (as its environment would give them)."""
    for key in list(os.environ):
        if key.startswith("THIDUA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("THIDUA_DATA_DIR", str(folder))
    monkeypatch.setenv("THIDUA_DATABASE_URL", url)


def _rows(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            name: [repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]
            for name in inspect(conn).get_table_names()
            if name != "alembic_version"
        }


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The original's database and an empty one, of the same kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/a.sqlite3", f"sqlite:///{tmp_path}/b.sqlite3"
        return
    request.getfixturevalue("pg_server")
    if shutil.which("pg_dump") is None:
        pytest.skip("the PostgreSQL client programs are not installed")
    made = [create_pg_database(), create_pg_database()]
    try:
        yield made[0], made[1]
    finally:
        for url in made:
            drop_pg_database(url)


def test_a_running_services_backup_restores_whole(
    urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = make_engine(urls[0])
    upgrade(original)
    seed_world(original, NOW)
    (tmp_path / "in.pdf").write_bytes(pdf_bytes(4096))
    with session_for(original) as session:
        files.store_document(
            session=session, source=tmp_path / "in.pdf", root=tmp_path / "a" / "files", now=NOW
        )
        session.commit()
    stop = threading.Event()

    def service() -> None:  # the service goes on writing while the backup is taken
        number = 0
        while not stop.is_set():
            number += 1
            inbox.store(original, "telegram", [(str(number % 7), f"k{number}", {"n": number})], NOW)

    writer = threading.Thread(target=service)
    writer.start()
    archive = tmp_path / "backups" / "thidua.tar.gz"
    try:
        _deployment(tmp_path / "a", urls[0], monkeypatch)
        assert main(["backup", str(archive)]) == 0
    finally:
        stop.set()
        writer.join()
    before = _rows(original)

    _deployment(tmp_path / "b", urls[1], monkeypatch)
    assert main(["restore", str(archive)]) == 0
    restored = make_engine(urls[1])
    after = _rows(restored)
    assert set(after) == set(before)
    for name in set(before) - WRITTEN_MEANWHILE:
        assert after[name] == before[name], name
    assert 0 < len(after["inbox"]) <= len(before["inbox"])
    assert set(after["inbox"]) <= set(before["inbox"])  # a moment of the original, not a mix
    stored = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("files/*/*"))
    assert stored and stored == sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("files/*/*")
    )
    for path in stored:
        assert (tmp_path / "b" / path).read_bytes() == (tmp_path / "a" / path).read_bytes()

    assert main(["restore", str(archive)]) == 2  # never over data
    restored.dispose()
    original.dispose()


def test_a_damaged_or_foreign_archive_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _deployment(tmp_path / "a", f"sqlite:///{tmp_path}/a.sqlite3", monkeypatch)
    archive = tmp_path / "b.tar.gz"
    assert main(["backup", str(archive)]) == 0
    capsys.readouterr()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:200])
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(hostile, "w:gz") as target:
        for member in source.getmembers():
            extracted = source.extractfile(member)
            target.addfile(member, extracted)
        escape = tarfile.TarInfo("files/../../escaped")
        escape.size = 0
        target.addfile(escape)
    _deployment(tmp_path / "c", f"sqlite:///{tmp_path}/c.sqlite3", monkeypatch)
    for bad in (cut, hostile, tmp_path / "b.tar.gz.missing"):
        code = main(["restore", str(bad)])
        assert code == 2, bad
        assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "escaped").exists()
    with pytest.raises(backup.BackupError, match="restore_other_database"):
        engine = make_engine(f"sqlite:///{tmp_path}/c.sqlite3")
        other = tmp_path / "pg.tar.gz"
        with tarfile.open(archive) as source, tarfile.open(other, "w:gz") as target:
            manifest = source.extractfile(backup.MANIFEST)
            assert manifest is not None
            changed = manifest.read().replace(b'"sqlite"', b'"postgresql"')
            info = tarfile.TarInfo(backup.MANIFEST)
            info.size = len(changed)
            target.addfile(info, __import__("io").BytesIO(changed))
        backup.restore(engine, tmp_path / "c", other)


def test_nightly_backups_keep_the_last_days(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/n.sqlite3")
    upgrade(engine)
    folder = tmp_path / "nightly"
    old = backup.nightly(engine, tmp_path / "data", folder, 14, NOW)
    os.utime(old, (NOW.timestamp() - 15 * 86400,) * 2)
    kept = backup.nightly(engine, tmp_path / "data", folder, 14, NOW.replace(hour=19))
    assert sorted(folder.iterdir()) == [kept]
    assert backup.read_summary(kept).database == "sqlite"


async def test_the_scheduling_process_writes_the_nightly_backup(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from scheduler.service import ReminderService

    engine = make_engine(f"sqlite:///{tmp_path}/n.sqlite3")
    upgrade(engine)
    written: list[Path] = []
    service = ReminderService(
        engine=engine, ports={}, render=lambda row: None, clock=lambda: NOW,  # type: ignore[arg-type, return-value]
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
        nightly=lambda now: written.append(
            backup.nightly(engine, tmp_path / "data", tmp_path / "nightly", 14, now)
        ),
    )  # fmt: skip
    await service.run_nightly()
    assert [p.name for p in written] == ["thidua-20260302-0130.tar.gz"]
    assert backup.read_summary(written[0]).revision is not None
