"""Sending the year-end report in chat through the fake channel, and every bad input on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.engine import session_for
from storage.models import Delivery, Report, StoredFile, SubmissionStatus
from tests.conftest import NOW
from tests.factories import pdf_bytes, seed_world
from tests.fake_channel import FakeChat, make_core

YEAR_END = "Báo cáo tổng kết năm —"
PDF = pdf_bytes(2048)


@pytest.fixture
def chat(engine: Engine, tmp_path: Path) -> FakeChat:
    codes, _ = seed_world(engine, NOW)
    person = FakeChat(make_core(engine, tmp_path, lambda: NOW, board_chat_id="-100"), "r1")
    person.command(f"/start {codes['contact']}")
    person.press("Đồng ý")
    return person


def _figures(engine: Engine) -> dict[str, object]:
    with session_for(engine) as session:
        return dict(session.exec(select(Report)).one().figures)


def _answer_all(chat: FakeChat) -> None:
    """Types every figure of the year-end report, as a person would."""
    for typed in ("1.500", "700", "1,25 tỷ", "-500 triệu", "12 triệu", "8,5 triệu", "2 tỷ", "3",
                  "150tr", "0"):  # fmt: skip
        chat.text(typed)
    chat.press("Đóng đầy đủ, đúng hạn")
    for typed in ("120", "8", "2", "15"):
        chat.text(typed)
    chat.press("Bỏ qua")


def test_the_whole_report_from_menu_to_receipt(chat: FakeChat, engine: Engine) -> None:
    chat.press(YEAR_END)
    assert "Báo cáo tổng kết năm 2026 — Công ty TNHH Hoà Bình" in chat.said
    assert "năm năm" not in chat.said  # the name already ends with "năm"
    chat.press("Nhập số liệu")
    assert "Bước 1/16: Tổng số lao động cuối kỳ" in chat.said
    chat.text("1.500")
    assert "Đã lưu: Tổng số lao động cuối kỳ = 1.500" in chat.said
    chat.text("abc")
    assert "“abc” không phải là số" in chat.said
    chat.text("2000")
    assert "không thể nhiều hơn tổng số lao động (1.500)" in chat.said
    chat.text("700")
    chat.text("1,25 tỷ")
    assert "Doanh thu (đồng) = 1.250.000.000 đ" in chat.said
    chat.text("-500 triệu")
    assert "= -500.000.000 đ" in chat.said
    chat.text("12 triệu")
    chat.text("1000000000000000")
    assert "lớn hơn 1.000.000.000, không hợp lý" in chat.said
    chat.text("8,5 triệu")
    for typed in ("2 tỷ", "3", "150tr", "0"):
        chat.text(typed)
    chat.press("Đóng đầy đủ, đúng hạn")
    for typed in ("120", "8", "2", "15"):
        chat.text(typed)
    chat.press("Bỏ qua")
    assert "gửi báo cáo đã ký dạng tệp" in chat.said
    chat.other()  # a photo of the signed page
    assert "không gửi ảnh chụp" in chat.said
    chat.send_file(b"MZ\x90\x00\x03 windows program", "bao-cao.pdf")
    assert "không phải tài liệu PDF, DOC hoặc DOCX" in chat.said
    chat.send_file(b"", "trong.pdf")
    assert "Tệp rỗng" in chat.said
    chat.send_file(b"x", "lon.pdf", size=25 * 1024 * 1024)
    assert "tối đa 20 MB" in chat.said and "email" in chat.said
    assert len(chat.files.fetched) == 1  # only the .exe was downloaded; 0 B and 25 MB never
    chat.send_file(PDF, "../../Báo cáo tổng kết.pdf")
    assert "Đã nhận báo cáo đã ký ../../Báo cáo tổng kết.pdf (PDF, 2 KB)." in chat.said
    chat.send_file(PDF, "ban-sao.pdf")  # the same bytes as a supporting file
    chat.press("Chuyển sang xem lại")
    assert "Lợi nhuận trước thuế (đồng; lỗ thì ghi số âm): -500.000.000 đ" in chat.said
    chat.press("Xác nhận và nộp")
    assert "Đã nộp. Số tiếp nhận BC-2026-0001, phiên bản 1" in chat.said
    notice = chat.last.board[0]
    assert "Doanh thu (đồng): 1.250.000.000 đ" in notice.text
    assert notice.file is not None and notice.file.path.read_bytes() == PDF
    with session_for(engine) as session:
        stored = session.exec(select(StoredFile)).all()
        assert len(stored) == 1 and notice.file.path.name == stored[0].sha256
        assert session.exec(select(Report)).one().status == SubmissionStatus.SUBMITTED


def test_refused_values_leave_saved_figures_alone_and_drafts_survive(
    chat: FakeChat, engine: Engine, tmp_path: Path
) -> None:
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    chat.text("1.500")
    chat.text("9000")  # more women than workers
    assert _figures(engine) == {"workers_total": 1500}
    chat.core = make_core(engine, tmp_path, lambda: NOW)  # stopped here; the next day
    chat.command("/menu")
    chat.press(YEAR_END)
    assert "Đã nhập 1/16 số liệu" in chat.said
    chat.press("Nhập số liệu")  # resumes at the first figure not given
    assert "Bước 2/16" in chat.said
    chat.text("600")
    assert _figures(engine) == {"workers_total": 1500, "workers_female": 600}


def test_cannot_submit_an_incomplete_report(chat: FakeChat) -> None:
    chat.press(YEAR_END)
    chat.press("Xem lại và nộp")
    assert "Còn thiếu:" in chat.said and "báo cáo đã ký" in chat.said
    assert "Xác nhận và nộp" not in [c.label for c in chat.last.replies[-1].choices]


def test_midyear_review_uses_the_short_set(chat: FakeChat) -> None:
    chat.press("Báo cáo sơ kết 6 tháng — hạn thứ Ba, 30/06/2026")
    chat.press("Nhập số liệu")
    assert "Bước 1/7:" in chat.said


def test_keep_can_be_typed_where_numbers_are_values(chat: FakeChat, engine: Engine) -> None:
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    chat.text("1.500")
    chat.command("/menu")
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    asked = chat.command("/back")[-1]  # from step 2, where it resumed, to step 1
    assert asked.typed and "Giữ nguyên: 1.500" in [c.label for c in asked.choices]
    chat.text("giu nguyen")  # what a phone without a Vietnamese keyboard sends
    assert "Bước 2/16" in chat.said
    chat.text("1")  # a value here, not the first choice
    assert _figures(engine) == {"workers_total": 1500, "workers_female": 1}


def _submit_year_end(chat: FakeChat) -> None:
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    _answer_all(chat)
    chat.send_file(PDF, "bao-cao.pdf")
    chat.press("Chuyển sang xem lại")
    chat.press("Xác nhận và nộp")


def _notice_payload(engine: Engine) -> dict[str, object]:
    with session_for(engine) as session:
        notice = session.exec(select(Delivery).where(Delivery.kind == "notice")).one()
        return {"channel": notice.channel, "chat": notice.chat_id, **notice.payload}


def test_the_board_gets_our_copy_under_our_name_even_on_the_channel_that_gave_it(
    engine: Engine, tmp_path: Path
) -> None:
    """Re-sent by its file id, the document would keep the sender's name: it is uploaded."""
    codes, _ = seed_world(engine, NOW)
    chat = FakeChat(make_core(engine, tmp_path, lambda: NOW, board_chat="fake:-100"), "r1")
    chat.command(f"/start {codes['contact']}")
    chat.press("Đồng ý")
    _submit_year_end(chat)
    same = _notice_payload(engine)
    assert (same["channel"], same["chat"]) == ("fake", "-100")
    assert same["file_id"] is None and Path(str(same["file_path"])).read_bytes() == PDF
    assert same["file_name"] == "BC-2026-0001-0100109106-bao-cao-da-ky.pdf"


def test_a_board_chat_on_another_channel_gets_the_file_uploaded(
    chat: FakeChat, engine: Engine
) -> None:
    _submit_year_end(chat)
    other = _notice_payload(engine)
    assert (other["channel"], other["chat"]) == ("telegram", "-100")  # THIDUA_BOARD_CHAT_ID
    assert other["file_id"] is None and Path(str(other["file_path"])).read_bytes() == PDF
