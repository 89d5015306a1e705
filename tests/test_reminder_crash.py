"""A real process sending 1,000 reminders is killed midway; the restart delivers the rest."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram
from tests.processes import child_env
from tests.reminder_world import FIRST_CHAT, build

REMINDERS = 1000
IN_FLIGHT = 16 + 32  # being sent (the dispatcher's concurrency) + sent, not yet recorded


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def _run(fake: FakeTelegram, data_dir: Path) -> subprocess.Popen[bytes]:
    env = child_env(
        THIDUA_DATA_DIR=str(data_dir), THIDUA_TELEGRAM_TOKEN=fake.token,
        THIDUA_TELEGRAM_API_URL=fake.base_url, THIDUA_TELEGRAM_FILE_URL=fake.file_url,
    )  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "reminders", "run-now", "--rate", "300"],
        cwd=data_dir.parent, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_killed_midway_every_reminder_arrives_once_or_in_flight_twice(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    build(data_dir, REMINDERS)
    first = _run(fake, data_dir)
    deadline = time.monotonic() + 60
    while len(fake.calls_to("sendMessage")) < REMINDERS // 3:
        assert time.monotonic() < deadline, first.stdout.read() if first.stdout else ""
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = len(fake.calls_to("sendMessage"))
    second = _run(fake, data_dir)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output.decode()
    chats = Counter(
        int(c.params["chat_id"]) for c in fake.calls_to("sendMessage") if c.status == 200
    )
    assert set(chats) == {FIRST_CHAT + n for n in range(REMINDERS)}  # every owed one delivered
    duplicates = sum(chats.values()) - REMINDERS
    print(f"\n[crash test] killed after {at_kill} sends; duplicates after restart: {duplicates}")
    assert duplicates <= IN_FLIGHT
    assert "Đã gửi" in output.decode()
