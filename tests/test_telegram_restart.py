"""A real `thidua run` process with a token: killed mid-flow, started again, it continues."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage import invitations, registry
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from storage.models import Role
from storage.types import utcnow
from tests.conftest import NOW
from tests.fake_telegram import Call, FakeTelegram
from tests.processes import child_env

CHAT = 7007


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def _start(fake: FakeTelegram, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = child_env(
        THIDUA_DATA_DIR=str(data_dir),
        THIDUA_TELEGRAM_TOKEN=fake.token,
        THIDUA_TELEGRAM_API_URL=fake.base_url,
        THIDUA_TELEGRAM_FILE_URL=fake.file_url,
        THIDUA_POLL_TIMEOUT="1",
    )
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=data_dir.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _text(call: Call) -> str:
    return str(call.params.get("text", ""))


def _wait_until_answered(engine: Engine, count: int) -> None:
    """Until the process has recorded ``count`` answers as sent (its inbox rows finished)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(
                text("SELECT count(*) FROM inbox WHERE answered_at IS NOT NULL")
            ).scalar()
        if done is not None and done >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} answers recorded as sent")


def test_a_killed_process_resumes_the_conversation(fake: FakeTelegram, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data_dir / 'thidua.sqlite3'}")
    upgrade(engine)
    with session_for(engine) as session:
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="Công ty TNHH Hoà Bình", now=NOW
        )
        code = invitations.create_invitation(
            session=session, role=Role.CONTACT, created_by="t", now=utcnow(), enterprise=enterprise
        ).code  # the process reads the real clock
        session.commit()
    engine.dispose()
    log = tmp_path / "bot.log"
    first = _start(fake, data_dir, log)
    process: Any = first
    try:
        fake.push_update(fake.message_update(CHAT, f"/start {code}"))
        ask = fake.wait_for("sendMessage", lambda c: "sẽ được liên kết" in _text(c), timeout=60)[-1]
        _wait_until_answered(engine, count=1)  # between two updates: the first is finished
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        buttons = {
            b["text"]: b["callback_data"]
            for row in ask.params["reply_markup"]["inline_keyboard"]
            for b in row
        }
        message_id = ask.response["result"]["message_id"]
        fake.push_update(
            fake.callback_update(CHAT, buttons["Đồng ý, liên kết"], message_id=message_id)
        )
        process = _start(fake, data_dir, log)
        fake.wait_for("sendMessage", lambda c: "Đã liên kết" in _text(c), timeout=60)
        fake.wait_for("sendMessage", lambda c: "Danh mục chính" in _text(c), timeout=10)
        asked = [c for c in fake.calls_to("sendMessage") if "sẽ được liên kết" in _text(c)]
        assert len(asked) == 1, "the /start update must not be answered twice after the restart"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    output = log.read_text()
    assert process.returncode == 0 and "Traceback" not in output  # SIGTERM: a clean stop
    assert fake.token not in output and fake.token.split(":")[1] not in output
    assert "Khởi động các kênh: Telegram." in output
