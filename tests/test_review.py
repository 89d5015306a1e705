"""The board reviews a submission; "returned" tells the enterprise and reopens its flow."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.texts.outbox import Renderer
from scheduler import dispatcher
from storage.engine import session_for
from storage.models import AuditEvent, Registration
from tests.conftest import NOW
from tests.factories import Clock, ports_for, seed_world
from tests.fake_channel import FakeChat, make_core
from tests.test_registration_flow import REG, _person
from tests.test_reminders import FakeSender


async def test_returned_with_a_comment_reopens_after_the_cutoff(
    engine: Engine, tmp_path: Path
) -> None:
    codes, _ = seed_world(engine, NOW)
    clock = Clock(NOW)
    core = make_core(engine, tmp_path, clock)
    contact, board = FakeChat(core, "c1"), FakeChat(core, "b1")
    for chat, role in ((contact, "contact"), (board, "board")):
        chat.command(f"/start {codes[role]}")
        chat.press("Đồng ý")
    contact.press(REG)
    contact.press("Bước 2/3")
    _person(contact, "Lê Thị An", "Lao động tiên tiến")
    contact.press("Tiếp tục: Bước 3/3")
    contact.press("Xác nhận và nộp")
    clock.now = NOW + timedelta(days=60)  # the deadline has passed
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    assert "1. Công ty TNHH Hoà Bình — DK-2026-0001 (đã nhận)" in board.said
    board.text("1")
    assert "DK-2026-0001, phiên bản 1" in board.said
    board.press("trả lại để sửa")
    board.text("Thiếu chức vụ của Lê Thị An.")
    assert "DK-2026-0001 nay ở trạng thái: trả lại để sửa" in board.said
    sender = FakeSender()
    await dispatcher.dispatch(
        engine, ports=ports_for(sender), render=Renderer(core.settings, clock), clock=clock,
    )  # fmt: skip
    assert [chat for chat, _ in sender.sent] == ["c1"]
    notice = sender.sent[0][1]
    assert "Ban Quản lý đã xem đăng ký danh hiệu thi đua DK-2026-0001" in notice
    assert "Ghi chú: Thiếu chức vụ của Lê Thị An." in notice
    contact._send(kind="choice", choice="g:open:registration")  # the notice's button
    assert "Đăng ký danh hiệu thi đua năm 2026" in contact.said
    contact.press("Bước 2/3")
    contact.press("Sửa thông tin một người")
    contact.text("1")
    contact.press("Giữ nguyên: Lê Thị An")
    contact.text("Công nhân")
    contact.press("Lao động tiên tiến")
    contact.press("Không đề nghị")
    contact.press("Tiếp tục: Bước 3/3")
    contact.press("Xác nhận và nộp")
    assert "DK-2026-0002, phiên bản 2" in contact.said
    with session_for(engine) as session:
        states = [
            (r.version, r.review_state)
            for r in session.exec(select(Registration).order_by(Registration.version))
        ]
        assert states == [(1, "returned"), (2, "received")]
        assert "review" in session.exec(select(AuditEvent.action)).all()
    contact.command("/menu")
    contact.press("Đăng ký danh hiệu thi đua — đã nộp")
    assert "đã kết thúc lúc" in contact.said  # resubmitted: closed again


def test_a_contact_cannot_review_and_the_board_sees_when_nothing_was_submitted(
    engine: Engine, tmp_path: Path
) -> None:
    codes, _ = seed_world(engine, NOW)
    core = make_core(engine, tmp_path, lambda: NOW)
    contact, board = FakeChat(core, "c1"), FakeChat(core, "b1")
    for chat, role in ((contact, "contact"), (board, "board")):
        chat.command(f"/start {codes[role]}")
        chat.press("Đồng ý")
    contact.command("/review")
    assert "chỉ dành cho cán bộ Ban Quản lý" in contact.said
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    assert "Chưa nộp bản đăng ký nào." in board.said
