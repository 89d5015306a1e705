"""The scheduler in the bot process: APScheduler runs the outbox; one scheduler per database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.settings import Settings
from bot.texts.outbox import Renderer
from scheduler.dispatcher import Outcome, Outgoing, SendResult
from scheduler.service import LOCK_KEY, ReminderService
from storage.engine import session_for
from storage.models import Delivery, DeliveryStatus
from tests.factories import ports_for
from tests.test_reminders import HCM, _world, local


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def __call__(self, chat_id: str, message: Outgoing) -> SendResult:
        self.sent.append(chat_id)
        return SendResult(Outcome.SENT)


def _service(
    engine: Engine, tmp_path: Path, send: Recorder, rate: float = 1000
) -> ReminderService:
    clock = lambda: local(7)  # noqa: E731
    return ReminderService(
        engine=engine, ports=ports_for(send, rate), clock=clock, tz=HCM,
        render=Renderer(Settings(data_dir=tmp_path), clock),
    )  # fmt: skip


async def test_apscheduler_runs_the_outbox_in_the_bot_loop(engine: Engine, tmp_path: Path) -> None:
    with session_for(engine) as session:
        _world(session)
    recorder = Recorder()
    service = _service(engine, tmp_path, recorder)
    assert service.start()
    try:
        for _ in range(100):
            if len(recorder.sent) == 4:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    assert sorted(recorder.sent) == ["00", "01", "10", "11"]
    with session_for(engine) as session:
        statuses = {r.status for r in session.exec(select(Delivery))}
    assert statuses == {DeliveryStatus.SENT}


def test_a_second_process_does_not_schedule_on_postgresql(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite deployments run one process")
    first = _service(engine, tmp_path, Recorder())
    second = _service(engine, tmp_path, Recorder())
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


async def test_a_stop_mid_run_records_what_went_out_and_requeues_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    """Was: the stop cancelled the run, and sent rows stayed claimed, to be sent again."""
    with session_for(engine) as session:
        _world(session)
    recorder = Recorder()
    service = _service(engine, tmp_path, recorder, rate=5)  # one send every 0.2 s
    assert service.start()
    for _ in range(200):
        if recorder.sent:
            break
        await asyncio.sleep(0.01)
    await service.stop()  # the other three wait for their slot, then see the stop
    with session_for(engine) as session:
        statuses = {r.chat_id: r.status for r in session.exec(select(Delivery))}
    sent = {chat for chat, status in statuses.items() if status == DeliveryStatus.SENT}
    assert sent == set(recorder.sent) and len(sent) >= 1
    assert set(statuses.values()) <= {DeliveryStatus.SENT, DeliveryStatus.PENDING}
    assert len(statuses) == 4 and DeliveryStatus.PENDING in set(statuses.values())


def test_a_lost_lock_connection_hands_scheduling_to_one_other_process(
    engine: Engine, tmp_path: Path
) -> None:
    """Was: after a PostgreSQL restart the first process kept scheduling without its lock, and a
    second could take the lock: two schedulers. Now exactly one schedules, whoever it is."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite deployments run one process")
    first = _service(engine, tmp_path, Recorder())
    second = _service(engine, tmp_path, Recorder())
    assert first.holds_lock() and not second.holds_lock()
    with engine.connect() as admin:  # the server drops the lock holder's connection
        ended = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = :key AND granted"
            ),
            {"key": LOCK_KEY},
        ).all()
    assert ended == [(True,)]
    for _ in range(100):  # the terminated backend's lock goes when the server notices
        if second.holds_lock():
            break
        time.sleep(0.05)
    assert second.holds_lock() and not first.holds_lock()  # one, never both
    second.release()
    assert first.holds_lock()  # the standby takes over once the holder is gone
    first.release()
