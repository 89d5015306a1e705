"""Real `thidua run` processes in webhook mode on one PostgreSQL database, as behind a reverse
proxy: chats interleaved over two workers, and a worker killed between receiving and answering."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.settings import Settings
from scheduler.service import LOCK_KEY
from storage.engine import make_engine
from storage.inbox import CHAT_LOCKS
from storage.migrate import upgrade
from tests.conftest import create_pg_database, drop_pg_database
from tests.factories import free_port
from tests.fake_telegram import Call, FakeTelegram
from tests.processes import child_env

SECRET = "workers-s3cret"
# What each command answers an unlinked chat begins with: the order of answers shows the order
# in which a chat's steps ran.
ANSWERS = {"/help": "Các lệnh:", "/lang": "Anh/Chị chọn ngôn ngữ", "/menu": "Tài khoản chat"}


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    url = create_pg_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop_pg_database(url)


class Worker:
    """One `thidua run` process with its own port, logging to a file."""

    def __init__(self, fake: FakeTelegram, url: str, folder: Path, public: str) -> None:
        self.port = free_port()
        self.log = folder / f"worker-{self.port}.log"
        folder.mkdir(parents=True, exist_ok=True)
        env = child_env(
            THIDUA_DATA_DIR=str(folder), THIDUA_DATABASE_URL=url,
            THIDUA_TELEGRAM_TOKEN=fake.token, THIDUA_TELEGRAM_API_URL=fake.base_url,
            THIDUA_TELEGRAM_FILE_URL=fake.file_url, THIDUA_WEB_PORT=str(self.port),
            THIDUA_PUBLIC_URL=public, THIDUA_WEBHOOK_SECRET=SECRET,
        )  # fmt: skip
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=folder, env=env,
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def wait_ready(self) -> None:
        """Until /healthz answers 200 (the web front is up and the database answers)."""
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/healthz", timeout=2
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"worker on {self.port} not ready:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _text(call: Call) -> str:
    return str(call.params.get("text", ""))


def _answers(fake: FakeTelegram, chat: int) -> list[str]:
    """The commands a chat's answers were for, in the order they were sent."""
    found = []
    for call in fake.calls_to("sendMessage"):
        if call.params.get("chat_id") == chat:
            found += [c for c, start in ANSWERS.items() if _text(call).startswith(start)]
    return found


def _sent(fake: FakeTelegram, chat: int) -> list[str]:
    """The beginnings of the messages a chat was sent, in order."""
    return [_text(c)[:60] for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == chat]


def _schedulers(engine: Engine) -> int:
    """Backends of this database holding the reminder scheduler's advisory lock."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname ="
                    " current_database()) AND classid = 0 AND objid = :key AND objsubid = 1"
                ),
                {"key": LOCK_KEY},
            ).scalar_one()
        )


async def _post(session: aiohttp.ClientSession, url: str, update: dict[str, object]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with session.post(url, json=update, headers=headers) as response:
        return response.status


def test_two_workers_share_the_chats_nothing_lost_or_doubled_one_scheduler(
    fake: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    public = f"http://127.0.0.1:{free_port()}"  # the reverse proxy's address, as Telegram sees it
    workers = [Worker(fake, pg_url, tmp_path / f"w{i}", public) for i in range(2)]
    engine = make_engine(pg_url)
    chats = list(range(9001, 9021))
    steps = ["/help", "/lang", "/menu", "/help", "/menu", "/lang"]
    try:
        for worker in workers:
            worker.wait_ready()
        # /healthz answers once the web front listens; each worker then announces the webhook
        fake.wait_for("setWebhook", count=len(workers), timeout=30)
        assert fake.webhook is not None and fake.webhook["url"] == f"{public}/telegram"

        async def chat(number: int, session: aiohttp.ClientSession) -> None:
            """The chat's updates one after another (each once the last was acknowledged, as
            Telegram delivers a chat's updates), over both workers in turn; one is delivered
            twice at once, to each worker. Chats all at once."""
            for i, command in enumerate(steps):
                update = {**fake.message_update(number, command), "update_id": number * 10 + i}
                posts = [_post(session, workers[(number + i) % 2].webhook, update)]
                if i == 2:
                    posts.append(_post(session, workers[(number + i + 1) % 2].webhook, update))
                assert await asyncio.gather(*posts) == [200] * len(posts)

        async def traffic() -> None:
            async with aiohttp.ClientSession() as session:
                await asyncio.gather(*(chat(number, session) for number in chats))

        asyncio.run(traffic())
        expected = len(chats) * len(steps)
        fake.wait_for("sendMessage", count=expected, timeout=60)
        time.sleep(0.5)  # anything doubled would be sent by now
        # each step answered once (two workers may send out of order); what was sent to the
        # chats that differ, and the workers' logs, if any does
        wrong = {n: _sent(fake, n) for n in chats if sorted(_answers(fake, n)) != sorted(steps)}
        if wrong:
            logs = "\n".join(w.log.read_text()[-4000:] for w in workers)
            pytest.fail(f"answers differ: {wrong}\nworkers' logs:\n{logs}", pytrace=False)
        assert len(fake.calls_to("sendMessage")) == expected
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT chat_id, done_at FROM inbox WHERE channel = 'telegram' ORDER BY id")
            ).all()
        assert len(rows) == expected  # each stored once, though one was delivered twice
        for number in chats:  # handled in order of arrival, whichever worker stored or ran it
            handled = [done for chat, done in rows if chat == str(number)]
            assert None not in handled and handled == sorted(handled), number
        assert _schedulers(engine) == 1  # one of the two schedules; the other stands by
        handled = [w.log.read_text().count("now runs the reminder scheduler") for w in workers]
        assert sorted(handled) == [0, 1]
    finally:
        codes = [worker.stop() for worker in workers]
        engine.dispose()
    for worker, code in zip(workers, codes, strict=True):
        output = worker.log.read_text()
        assert code == 0 and "Traceback" not in output, output  # SIGTERM: a clean stop
        assert fake.token not in output and SECRET not in output


def test_a_worker_killed_between_receiving_and_answering_answers_after_restart(
    fake: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    """The webhook's 200 means stored: killed before handling, the restart answers it once."""
    public = f"http://127.0.0.1:{free_port()}"
    engine = make_engine(pg_url)
    first = Worker(fake, pg_url, tmp_path / "w", public)
    second: Worker | None = None
    try:
        first.wait_ready()
        with engine.connect() as holder:  # the chat's turn held: the worker stores, then waits
            holder.execute(
                text("SELECT pg_advisory_lock(:space, hashtext(:chat))"),
                {"space": CHAT_LOCKS, "chat": "telegram:9100"},
            )
            update = fake.message_update(9100, "/help")
            assert fake.post_to_webhook(first.webhook, update, SECRET) == 200
            deadline = time.monotonic() + 10
            while not _waiting_for_lock(engine):  # the worker is inside, waiting for the turn
                assert time.monotonic() < deadline
                time.sleep(0.05)
            first.kill()
            holder.rollback()
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
        assert fake.calls_to("sendMessage") == []
        second = Worker(fake, pg_url, tmp_path / "w", public)
        second.wait_ready()
        fake.wait_for("sendMessage", lambda c: "Các lệnh:" in _text(c), timeout=30)
        time.sleep(0.5)
        assert len(fake.calls_to("sendMessage")) == 1
    finally:
        code = second.stop() if second is not None else first.stop()
        engine.dispose()
    assert code == 0


def _waiting_for_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        )


def test_settings_refuse_a_public_url_without_the_server() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="THIDUA_WEB_PORT"):
        Settings(public_url="https://thidua.example.vn")
    assert Settings(public_url="https://x.vn/", web_port=8080).telegram_webhook_url == (
        "https://x.vn/telegram"
    )
