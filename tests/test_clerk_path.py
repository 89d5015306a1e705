"""The enterprise contact's path off the happy path: files taken where they are sent, figures
checked as a whole, choices typed, what was decided shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.engine import session_for
from storage.models import Nominee, Report, ReportDocument
from tests.conftest import NOW
from tests.factories import Clock, pdf_bytes, seed_world
from tests.fake_channel import FakeChat, make_core

REG = "Đăng ký danh hiệu thi đua — hạn"
YEAR_END = "Báo cáo tổng kết năm — hạn thứ Sáu, 04/12/2026"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def codes(engine: Engine) -> dict[str, str]:
    return seed_world(engine, NOW)[0]


@pytest.fixture
def chat(engine: Engine, tmp_path: Path, clock: Clock, codes: dict[str, str]) -> FakeChat:
    person = FakeChat(make_core(engine, tmp_path, clock, board_chat_id="-100"), "c1")
    person.command(f"/start {codes['contact']}")
    person.press("Đồng ý")
    return person


def _filled_form(chat: FakeChat, tmp_path: Path, *names: str) -> bytes:
    """The form the bot sends (holding the draft's rows), with one individual added per name."""
    chat.command("/menu")
    chat.press(REG)
    chat.press("Tải mẫu Excel")
    sent = next(r.file for r in chat.last.replies if r.file)
    assert sent is not None
    book = openpyxl.load_workbook(sent.path)
    for number, name in enumerate(names, start=book["Cá nhân"].max_row):
        book["Cá nhân"].append([number, name, "Công nhân", "Lao động tiên tiến", "", ""])
    form = tmp_path / "filled.xlsx"
    book.save(form)
    return form.read_bytes()


def _nominees(engine: Engine) -> list[str]:
    with session_for(engine) as session:
        return sorted(n.name for n in session.exec(select(Nominee)))


def test_the_filled_form_is_read_from_the_registration_page_and_from_the_menu(
    chat: FakeChat, engine: Engine, tmp_path: Path
) -> None:
    form = _filled_form(chat, tmp_path, "Nguyễn Thị Hoà")  # the bot stays on the page
    chat.send_file(form, "dang-ky.xlsx")
    assert "Chưa cần gửi tệp" not in chat.said and "chưa được đọc" not in chat.said
    assert "Tệp có 0 tập thể và 1 cá nhân hợp lệ." in chat.said
    chat.press("Đồng ý, dùng danh sách này")
    assert _nominees(engine) == ["Nguyễn Thị Hoà"]
    form = _filled_form(chat, tmp_path, "Trần Văn Đức")  # the form holds the draft's row
    chat.command("/menu")
    chat.send_file(form, "dang-ky (1).xlsx")
    assert "Anh/Chị vừa gửi một bảng tính: bảng tính được đọc như bảng đăng ký" in chat.said
    chat.press("Đồng ý, dùng danh sách này")
    assert _nominees(engine) == ["Nguyễn Thị Hoà", "Trần Văn Đức"]


def test_the_signed_report_is_taken_from_the_report_page_and_a_second_is_asked_about(
    chat: FakeChat, engine: Engine
) -> None:
    chat.press(YEAR_END)
    chat.send_file(pdf_bytes(), "bao-cao-ky.pdf")  # from the report's page
    assert "Đã nhận báo cáo đã ký bao-cao-ky.pdf" in chat.said
    chat.command("/menu")
    chat.press(YEAR_END)
    chat.send_file(pdf_bytes(300), "phu-luc.pdf")
    assert "Đã có báo cáo đã ký" in chat.said and "phu-luc.pdf" in chat.said
    chat.press("Tài liệu kèm theo")
    assert "Đã nhận tài liệu kèm theo phu-luc.pdf" in chat.said
    with session_for(engine) as session:
        kinds = sorted((d.name, d.signed) for d in session.exec(select(ReportDocument)))
        assert kinds == [("bao-cao-ky.pdf", True), ("phu-luc.pdf", False)]
        assert session.exec(select(Report.kind)).all() == ["report"]


def test_a_document_sent_from_the_menu_goes_to_the_report_due_first(chat: FakeChat) -> None:
    chat.command("/menu")
    chat.send_file(pdf_bytes(), "so-ket.pdf")
    assert "tài liệu được nhận cho báo cáo sơ kết 6 tháng" in chat.said
    assert "Đã nhận báo cáo đã ký so-ket.pdf" in chat.said


def test_a_file_nobody_can_use_says_what_is_expected(
    chat: FakeChat, clock: Clock, engine: Engine, tmp_path: Path, codes: dict[str, str]
) -> None:
    chat.command("/menu")
    chat.send_file(b"\x89PNG\r\n", "anh-chup.png")
    assert "không phải tệp Excel (.xlsx), cũng không phải tài liệu PDF" in chat.said
    assert "Bot nhận bảng đăng ký danh hiệu đã điền (Excel) khi đang mở đăng ký" in chat.said
    admin = FakeChat(chat.core, "a1")
    admin.command(f"/start {codes['admin']}")
    admin.press("Đồng ý")
    admin.send_file(b"PK\x03\x04", "doanh-nghiep.xlsx")
    assert "gõ /import rồi gửi lại tệp" in admin.said
    clock.now += timedelta(days=60)  # registration closed on 14/04
    chat.send_file(b"PK\x03\x04", "dang-ky.xlsx")
    assert "Bảng tính này chưa được đọc: hiện không mở đăng ký danh hiệu" in chat.said
