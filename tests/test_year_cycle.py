"""The yearly cycle as people walk it, over three campaigns: registration, the board's results
workbook back in chat, the enterprise told, a lookup whose awards feed the three-year rule, the
dossier upward (opened and read), and next year's list started from this one's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.texts.outbox import Renderer
from scheduler import dispatcher
from storage import campaigns, dossier, registrations, reviews
from storage.engine import session_for
from storage.models import Campaign, Enterprise, Nominee, NomineeKind, Registration, ReviewState
from storage.registrations import NomineeInput
from storage.results_sheet import export_results, import_results
from tests.factories import Clock, ports_for, seed_world, submit_registration
from tests.fake_channel import FakeChat, make_core
from tests.test_reminders import FakeSender

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
P = NomineeKind.INDIVIDUAL


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def _fill_results(chat: FakeChat, answers: dict[str, tuple[str, str, str]], out: Path) -> Path:
    """The board fills the workbook the bot sent: (name) -> (Có/Không, decision, date)."""
    sent = chat.sent_file
    assert sent is not None
    book = openpyxl.load_workbook(sent.path)
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=6):
        if row[5].value in answers:
            row[9].value, row[11].value, row[12].value = answers[str(row[5].value)]
    book.save(out)
    return out


async def test_a_year_from_registration_to_next_years_list(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(_at(2024, 3, 1))
    with session_for(engine) as session:  # 2024: on paper before the bot; entered by the board
        old = campaigns.create_campaign(session=session, year=2024, board_name="Ban Quản lý",
                                        now=clock.now, tz=TZ)  # fmt: skip
        session.commit()
    codes, enterprise_id = seed_world(engine, clock.now)  # the 2026 campaign, one enterprise
    with session_for(engine) as session:
        session.delete(campaigns.get_campaign(session=session, year=2026))
        enterprise = session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        submit_registration(
            session, old, enterprise,
            NomineeInput(P, "Trần Văn Đức", "CSTĐCS", position="Kỹ sư", initiative="Sáng kiến A"),
            NomineeInput(P, "Lê Thị An", "LĐTT", position="Kế toán"),
            now=clock.now,
        )  # fmt: skip
        campaigns.create_from(session=session, year=2025, previous=2024, now=clock.now, tz=TZ)
        session.commit()
    core = make_core(engine, tmp_path, clock)
    board, contact = FakeChat(core, "b1"), FakeChat(core, "c1")
    for chat, role in ((board, "board"), (contact, "contact")):
        chat.command(f"/start {codes[role]}")
        chat.press("Đồng ý")

    # 2024's results, from the board's workbook (the province decided nothing that year)
    clock.now = _at(2024, 12, 20)
    board.command("/results")
    assert "Kết quả 2025: 0 đề nghị" in board.said  # the latest campaign is 2025
    with session_for(engine) as session:
        path = tmp_path / "2024.xlsx"
        campaign_2024 = campaigns.get_campaign(session=session, year=2024)
        assert campaign_2024 is not None
        export_results(session=session, campaign=campaign_2024, path=path)
        book = openpyxl.load_workbook(path)
        for row in book.active.iter_rows(min_row=6):  # type: ignore[union-attr]
            if row[5].value:
                row[9].value, row[11].value, row[12].value = "Có", "9/QĐ-HB", "18/12/2024"
        book.save(path)
        import_results(session=session, campaign=campaign_2024, path=path, actor="t",
                       now=clock.now)  # fmt: skip
        session.commit()

    # 2025: the clerk starts from last year's list in chat and submits it
    clock.now = _at(2025, 3, 3)
    contact.command("/menu")
    contact.press("Đăng ký danh hiệu thi đua — hạn thứ Hai, 14/04/2025")
    contact.press("Bắt đầu từ danh sách năm trước")
    assert "Đã chép 2 dòng từ danh sách năm 2024" in contact.said
    contact.press("Bước 3/3: xem lại và nộp")
    contact.press("Xác nhận và nộp")
    assert "DK-2025-" in contact.said

    # the board's results of 2025 come back in chat; the enterprise is told
    clock.now = _at(2025, 12, 22)
    board.command("/results")
    filled = _fill_results(
        board,
        {"Trần Văn Đức": ("Có", "12/QĐ-HB", "20/12/2025"),
         "Lê Thị An": ("Có", "12/QĐ-HB", "20/12/2025")},
        tmp_path / "2025.xlsx",
    )  # fmt: skip
    board.send_file(filled.read_bytes(), "ket-qua-2025.xlsx")
    board.press("Có, ghi kết quả")
    assert "1 doanh nghiệp có kết quả mới" in board.said
    sender = FakeSender()
    await dispatcher.dispatch(
        engine, ports=ports_for(sender), render=Renderer(core.settings, clock), clock=clock
    )
    (told,) = [text for chat, text in sender.sent if chat == "c1" and "Kết quả khen" in text]
    assert "2 trên 2 đề nghị được công nhận" in told
    assert "Quyết định số 12/QĐ-HB ngày 20/12/2025 (Giám đốc doanh nghiệp)" in told

    # the board looks up a person: the awards of both years
    board.command("/lookup tran van duc")
    assert "2025: CSTĐCS — Quyết định số 12/QĐ-HB" in board.said
    assert "2024: CSTĐCS — Quyết định số 9/QĐ-HB" in board.said

    # 2026 from 2025: the list starts from last year's; two people put up for CSTĐ tỉnh
    with session_for(engine) as session:
        campaigns.create_from(session=session, year=2026, previous=2025, now=clock.now, tz=TZ)
        session.commit()
    clock.now = _at(2026, 3, 2)
    contact.command("/menu")
    contact.press("Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026")
    contact.press("Bắt đầu từ danh sách năm trước")
    with session_for(engine) as session:  # the clerk's edits (the edit steps are tested apart)
        for row in session.exec(select(Nominee).where(Nominee.registration_id.in_(  # type: ignore[attr-defined]
            select(Registration.id).where(Registration.status == "draft")
        ))):  # fmt: skip
            row.title_code, row.initiative = "cstd_tinh", "Sáng kiến cấp tỉnh"
            session.add(row)
        session.commit()
    contact.press("Bước 3/3: xem lại và nộp")
    said = contact.said
    assert "Lê Thị An: Chiến sĩ thi đua cấp tỉnh cần 3 lần liên tục" in said
    assert "hồ sơ không ghi nhận lần nào trong các năm 2024, 2025" in said
    assert "Trần Văn Đức: Chiến sĩ" not in said  # CSTĐCS in 2024 and 2025: the rule is met
    contact.press("Xác nhận và nộp")

    # approved, the dossier upward is written and reads right
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session, year=2026)
        assert isinstance(campaign, Campaign)
        enterprise = session.get(Enterprise, enterprise_id)
        assert enterprise is not None
        latest = registrations.latest_submitted(
            session=session, campaign=campaign, enterprise=enterprise
        )
        assert latest is not None
        reviews.set_review(session=session, submission=latest, state=ReviewState.APPROVED,
                           comment=None, reviewer=None, now=clock.now)  # fmt: skip
        session.commit()
        covered = dossier.write_dossier(
            session=session, campaign=campaign, path=tmp_path / "to-trinh.docx",
            list_path=tmp_path / "danh-sach.xlsx", made_on=date(2026, 12, 8),
        )  # fmt: skip
    assert len(covered.proposals) == 2 and covered.left_out == 0
    letter = Document(str(tmp_path / "to-trinh.docx"))
    rows = [" | ".join(c.text for c in r.cells) for t in letter.tables for r in t.rows]
    assert "1 | Chiến sĩ thi đua cấp tỉnh | 2 | - | 2" in rows
    listed = openpyxl.load_workbook(tmp_path / "danh-sach.xlsx")["Cá nhân"]
    names = [r[1] for r in listed.iter_rows(min_row=5, values_only=True)]
    assert names == ["Lê Thị An", "Trần Văn Đức", "Tổng cộng: 2"]
