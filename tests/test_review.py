"""The board reviews a submission; "returned" tells the enterprise and reopens its flow."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.texts.outbox import Renderer
from scheduler import dispatcher
from storage import campaigns, files, registrations, reports
from storage.engine import session_for
from storage.models import AuditEvent, Enterprise, MilestoneKind, NomineeKind, Registration
from storage.registrations import NomineeInput
from storage.report_figures import figures_for
from tests.conftest import NOW
from tests.factories import Clock, pdf_bytes, ports_for, seed_world
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


def _submit_rows(engine: Engine, names: list[str]) -> None:
    """The enterprise submits a registration of these people (a new version each time)."""
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.exec(select(Enterprise)).one()
        assert campaign is not None
        draft = registrations.open_draft(
            session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
        )
        registrations.replace_nominees(
            session=session, draft=draft, now=NOW, contact_id=None,
            rows=[registrations.validate(campaign.regime, NomineeInput(
                NomineeKind.INDIVIDUAL, name, "CSTĐCS" if n == 0 else "LĐTT")
            ) for n, name in enumerate(names)],
        )  # fmt: skip
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=NOW, contact_id=None,
        )  # fmt: skip
        session.commit()


def test_the_board_sees_the_rows_warnings_changes_and_the_signed_report_before_deciding(
    engine: Engine, tmp_path: Path
) -> None:
    codes, enterprise_id = seed_world(engine, NOW)
    board = FakeChat(make_core(engine, tmp_path, lambda: NOW), "b1")
    board.command(f"/start {codes['board']}")
    board.press("Đồng ý")
    people = [f"Người Số {chr(65 + n)}" for n in range(25)]
    _submit_rows(engine, people)
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    said = board.said
    assert "Dòng 1–20 trong 25 dòng:" in said and "Người Số A" in said
    assert "Người Số Y" not in said and "⚠" in said  # the 15 % CSTĐCS rule's kind of note
    assert "Chưa có cam kết" in said  # sent without the attestation (not through the chat)
    board.press("Xem tiếp các dòng")
    assert "Dòng 21–25 trong 25 dòng:" in board.said and "Người Số Y" in board.said
    _submit_rows(engine, [*people[1:], "Người Mới"])  # version 2: one out, one in
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    said = board.said
    assert "So với phiên bản 1:" in said and "thêm: Người Mới" in said
    assert "bỏ: Người Số A" in said and "sửa: Người Số B — LĐTT" not in said
    with session_for(engine) as session:  # a year-end report with its signed document
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.get(Enterprise, enterprise_id)
        assert campaign is not None and enterprise is not None
        draft = reports.open_draft(
            session=session, campaign=campaign, enterprise=enterprise,
            kind=MilestoneKind.REPORT, now=NOW, contact_id=None,
        )  # fmt: skip
        for figure in figures_for(MilestoneKind.REPORT):
            value = {"workers_total": 100, "social_insurance": "full"}.get(figure.key, 1)
            reports.set_figure(
                session=session, report=draft, key=figure.key, value=value, now=NOW,
                contact_id=None,
            )  # fmt: skip
        (tmp_path / "bc.pdf").write_bytes(pdf_bytes())
        stored = files.store_document(
            session=session, source=tmp_path / "bc.pdf", root=tmp_path / "data" / "files",
            now=NOW,
        )  # fmt: skip
        reports.attach(
            session=session, report=draft, stored=stored, signed=True, name="x.pdf",
            channel=None, channel_file_id=None, now=NOW, contact_id=None,
        )  # fmt: skip
        reports.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=NOW, contact_id=None,
        )  # fmt: skip
        session.commit()
    board.command("/review")
    board.press("Báo cáo tổng kết năm")
    board.text("1")
    said = board.said
    assert "1. Tổng số lao động cuối kỳ: 100" in said
    assert "Việc đóng bảo hiểm xã hội: Đóng đầy đủ, đúng hạn" in said
    assert "So với bản đăng ký DK-2026-0002:" in said  # the newest registration of the year
    awarded = [line for line in said.splitlines() if "đăng ký" in line and "đã tặng" in line]
    assert len(awarded) == 4
    assert any(": đăng ký 24, đã tặng 1" in line and "⚠" not in line for line in awarded)
    over = [line for line in awarded if line.startswith("• ⚠")]
    assert len(over) == 2 and all("đăng ký 0, đã tặng 1" in line for line in over)
    sent = next(r.file for r in board.last.replies if r.file)
    assert sent is not None and sent.name == "BC-2026-0001-0100109106-bao-cao-da-ky.pdf"
    assert sent.path.read_bytes() == pdf_bytes()
