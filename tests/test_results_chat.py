"""The year's results in chat: the board's workbook out and back, the contact's page and the
director's decision, past awards looked up; who may do what."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import campaigns
from storage.engine import session_for
from storage.models import AuditEvent, AwardResult, Delivery, Enterprise, NomineeKind
from storage.registrations import NomineeInput
from tests.conftest import NOW
from tests.factories import seed_world, submit_registration
from tests.fake_channel import FakeChat, board_contact_stranger, make_core

P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE


def _setup(engine: Engine, tmp_path: Path) -> tuple[FakeChat, FakeChat, FakeChat]:
    codes, enterprise_id = seed_world(engine, NOW)
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.get(Enterprise, enterprise_id)
        assert campaign is not None and enterprise is not None
        submit_registration(
            session, campaign, enterprise,
            NomineeInput(P, "Lê Thị An", "LĐTT", award="BK tỉnh"),
            NomineeInput(P, "Trần Văn Đức", "CSTĐCS", initiative="Sáng kiến A"),
            NomineeInput(C, "Phòng Kỹ thuật", "TT LĐTT"),
            now=NOW,
        )  # fmt: skip
        session.commit()
    return board_contact_stranger(make_core(engine, tmp_path, lambda: NOW), codes)


def test_a_previewed_results_file_declined_records_and_keeps_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    board.command("/results")
    sent = board.sent_file
    assert sent is not None
    book = openpyxl.load_workbook(sent.path)
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=6):
        if row[5].value == "Lê Thị An" and row[7].value == "Lao động tiên tiến":
            row[9].value, row[11].value, row[12].value = "Có", "5/QĐ-HB", "20/12/2026"
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    board.send_file(filled.read_bytes(), "ket qua.xlsx")
    assert "Nếu nhập tệp này (chưa lưu gì)" in board.said
    board.press("Không, không thay đổi gì")
    assert board.said.startswith("Chưa ghi kết quả nào.")
    assert list((tmp_path / "data" / "uploads").iterdir()) == []
    with session_for(engine) as session:
        assert session.exec(select(AwardResult)).all() == []


def test_the_board_sends_the_filled_workbook_and_the_contact_is_told(
    engine: Engine, tmp_path: Path
) -> None:
    board, contact, _stranger = _setup(engine, tmp_path)
    board.command("/results")
    sent = board.sent_file
    assert sent is not None and sent.name == "ket-qua-khen-thuong-2026.xlsx"
    assert "Kết quả 2026: 4 đề nghị" in board.said
    book = openpyxl.load_workbook(sent.path)
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=6):
        if row[5].value == "Lê Thị An" and row[7].value == "Lao động tiên tiến":
            row[9].value, row[11].value, row[12].value = "Có", "5/QĐ-HB", "20/12/2026"
        if row[5].value == "Lê Thị An" and str(row[7].value).startswith("Bằng khen"):
            row[9].value, row[11].value, row[12].value = "Không", "99/QĐ-UBND", "10/01/2027"
        if row[5].value == "Trần Văn Đức":
            row[9].value = "có lẽ"
    filled = tmp_path / "filled.xlsx"
    book.save(filled)

    board.send_file(filled.read_bytes(), "ket qua.xlsx")
    said = board.said
    assert "Nếu nhập tệp này (chưa lưu gì)" in said and "Chạy thử" not in said  # a preview
    assert "“có lẽ” không phải là kết quả" in said
    with session_for(engine) as session:
        assert session.exec(select(AwardResult)).all() == []
    board.press("Có, ghi kết quả")
    assert "2 dòng được ghi" in board.said
    assert "1 doanh nghiệp có kết quả mới; đã xếp 1 tin nhắn" in board.said
    with session_for(engine) as session:
        assert len(session.exec(select(AwardResult)).all()) == 2
        (notice,) = session.exec(select(Delivery).where(Delivery.kind == "results")).all()
        assert notice.chat_id == "c1"
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "results.import")).first()

    contact.command("/menu")
    contact.press("Kết quả khen thưởng")
    said = contact.said
    assert "Kết quả khen thưởng năm 2026 của Công ty TNHH Hoà Bình" in said
    assert "1 trên 4 đề nghị được công nhận, 1 không được công nhận, 2 đang chờ" in said
    assert "Lê Thị An — LĐTT: được công nhận — Quyết định số 5/QĐ-HB" in said
    assert "Lê Thị An — BK tỉnh: không được công nhận" in said
    assert "Trần Văn Đức — CSTĐCS: đang chờ quyết định" in said


def test_the_contact_records_the_directors_decision_with_exceptions(
    engine: Engine, tmp_path: Path
) -> None:
    _board, contact, _stranger = _setup(engine, tmp_path)
    contact.command("/results")
    contact.press("Ghi quyết định của Giám đốc")
    contact.text("15/QĐ-HB")
    contact.text("31/02/2026")
    assert "không phải là ngày" in contact.said
    contact.text("02/03/2027")
    assert "không sau hôm nay" in contact.said
    contact.text("02/03/2026")
    said = contact.said
    assert "1. Lê Thị An — LĐTT" in said and "2. Trần Văn Đức — CSTĐCS" in said
    assert "3. Phòng Kỹ thuật — TT LĐTT" in said
    assert "BK tỉnh" not in said  # the province decides it, not the director
    contact.text("4")
    assert "Không có dòng 4" in contact.said
    contact.text("2")
    assert "Ghi 2 đề nghị được công nhận và 1 đề nghị không được công nhận" in contact.said
    contact.press("Ghi kết quả")
    assert "Đã ghi." in contact.said
    assert "Trần Văn Đức — CSTĐCS: không được công nhận" in contact.said
    with session_for(engine) as session:
        rows = {r.name: r for r in session.exec(select(AwardResult))}
    assert set(rows) == {"Lê Thị An", "Trần Văn Đức", "Phòng Kỹ thuật"}
    assert rows["Lê Thị An"].recognised and rows["Lê Thị An"].decision_number == "15/QĐ-HB"
    assert not rows["Trần Văn Đức"].recognised
    assert rows["Phòng Kỹ thuật"].conferred_by == "enterprise"
    labels = [c.label for c in contact.last.replies[-1].choices]
    assert "Ghi quyết định của Giám đốc" not in labels  # nothing of the director's awaits
    assert "Danh sách kết quả của doanh nghiệp (Excel)" in labels  # corrections go by file


def test_a_second_decision_lists_only_what_still_waits(engine: Engine, tmp_path: Path) -> None:
    _board, contact, _stranger = _setup(engine, tmp_path)
    contact.command("/results")
    contact.press("Ghi quyết định của Giám đốc")
    contact.text("15/QĐ-HB")
    contact.text("02/03/2026")
    contact.text("1, 2")  # An and Đức not recognised by this decision
    contact.press("Ghi kết quả")
    with session_for(engine) as session:  # a later decision on the collective's title only
        for row in session.exec(select(AwardResult)):
            if row.name == "Phòng Kỹ thuật":
                session.delete(row)
        session.commit()
    contact.command("/results")
    contact.press("Ghi quyết định của Giám đốc")
    contact.text("16/QĐ-HB")
    contact.text("02/03/2026")
    said = contact.said
    assert "1. Phòng Kỹ thuật — TT LĐTT" in said and "Lê Thị An" not in said
    contact.press("Tất cả được công nhận")
    contact.press("Ghi kết quả")
    with session_for(engine) as session:
        numbers = {r.name: r.decision_number for r in session.exec(select(AwardResult))}
    assert numbers == {"Lê Thị An": "15/QĐ-HB", "Trần Văn Đức": "15/QĐ-HB",
                       "Phòng Kỹ thuật": "16/QĐ-HB"}  # fmt: skip


def test_only_the_board_sends_results_and_looks_up_past_awards(
    engine: Engine, tmp_path: Path
) -> None:
    board, contact, stranger = _setup(engine, tmp_path)
    for chat in (contact, stranger):
        chat.command("/lookup An")
        assert "chỉ dành cho cán bộ Ban Quản lý" in chat.said
    stranger.command("/results")
    assert "chưa được liên kết" in stranger.said
    board.command("/lookup")
    board.text("le thi an")
    assert "Không có danh hiệu, khen thưởng nào được ghi nhận với tên này." in board.said
    contact.command("/results")
    contact.press("Ghi quyết định của Giám đốc")
    contact.text("15/QĐ-HB")
    contact.text("02/03/2026")
    contact.press("Tất cả được công nhận")
    contact.press("Ghi kết quả")
    board.command("/lookup le thi an")
    assert "• Lê Thị An (cá nhân) — Công ty TNHH Hoà Bình, MST 0100109106" in board.said
    assert "2026: LĐTT — Quyết định số 15/QĐ-HB ngày 02/03/2026" in board.said


def test_the_board_enters_one_enterprises_results_in_chat(engine: Engine, tmp_path: Path) -> None:
    board, contact, _stranger = _setup(engine, tmp_path)
    board.command("/results 0100109107")
    assert "sai chữ số kiểm tra" in board.said
    board.command("/results 0100109106")
    assert "Kết quả khen thưởng năm 2026 của Công ty TNHH Hoà Bình" in board.said
    board.press("Ghi quyết định của cấp tỉnh")
    board.text("99/QĐ-UBND")
    board.text("01/03/2026")
    said = board.said
    assert "Các đề nghị do cấp tỉnh quyết định, đang chờ kết quả:" in said
    assert "1. Lê Thị An — BK tỉnh" in said and "LĐTT" not in said  # the director's are apart
    board.press("Tất cả được công nhận")
    board.press("Ghi kết quả")
    assert "Đã ghi. Người liên hệ của doanh nghiệp sẽ được báo." in board.said
    assert "Lê Thị An — BK tỉnh: được công nhận — Quyết định số 99/QĐ-UBND" in board.said
    with session_for(engine) as session:
        (row,) = session.exec(select(AwardResult)).all()
        assert (row.proposed_code, row.conferred_by) == ("bk_tinh", "province")
        assert session.exec(select(Delivery).where(Delivery.kind == "results")).all()
    contact.command("/results 0101243150")  # a contact sees its own enterprise, whatever typed
    assert "Công ty TNHH Hoà Bình" in contact.said
    assert "Ghi quyết định của cấp tỉnh" not in [c.label for c in contact.last.replies[-1].choices]


def test_a_contact_records_its_directors_results_by_workbook(
    engine: Engine, tmp_path: Path
) -> None:
    _board, contact, _stranger = _setup(engine, tmp_path)
    contact.command("/results")
    contact.press("Danh sách kết quả của doanh nghiệp (Excel)")
    sent = contact.sent_file
    assert sent is not None and sent.name == "ket-qua-0100109106-2026.xlsx"
    book = openpyxl.load_workbook(sent.path)
    sheet = book.active
    assert sheet is not None
    listed = [(r[5].value, r[7].value) for r in sheet.iter_rows(min_row=6) if r[0].value]
    assert ("Lê Thị An", "Lao động tiên tiến") in listed
    assert all(not str(t).startswith("Bằng khen") for _n, t in listed)  # not the director's
    for row in sheet.iter_rows(min_row=6):
        if row[5].value:
            row[9].value, row[11].value, row[12].value = "Có", "15/QĐ-HB", "01/03/2026"
            row[8].value = "UBND tỉnh"  # a wrong level typed: the director decides these
    sheet.append([None, "0100109106", None, None, "Cá nhân", "Lê Thị An", None,
                  "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", None, "Có"])  # fmt: skip
    filled = tmp_path / "own.xlsx"
    book.save(filled)
    contact.send_file(filled.read_bytes(), "own.xlsx")
    assert "cấp trên quyết định" in contact.said  # the BK row is the board's to record
    contact.press("Có, ghi kết quả")
    assert "3 dòng được ghi" in contact.said
    with session_for(engine) as session:
        rows = session.exec(select(AwardResult)).all()
        assert {r.proposed_code for r in rows} == {"ldtt", "cstdcs", "tt_ldtt"}
        assert {r.conferred_by for r in rows} == {"enterprise"}
        assert not session.exec(select(Delivery).where(Delivery.kind == "results")).all()


def test_a_long_list_of_results_is_paged_and_numbered_throughout(
    engine: Engine, tmp_path: Path
) -> None:
    _board, contact, _stranger = _setup(engine, tmp_path)
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.exec(select(Enterprise)).one()
        assert campaign is not None
        people = [NomineeInput(P, f"Nguyễn Văn {chr(65 + n // 26)}{chr(97 + n % 26)}", "LĐTT")
                  for n in range(30)]  # fmt: skip
        submit_registration(session, campaign, enterprise, *people, now=NOW)
        session.commit()
    contact.command("/results")
    assert "1. Nguyễn Văn Aa — LĐTT" in contact.said and "26." not in contact.said
    contact.press("Trang sau (2/2)")
    assert "26. Nguyễn Văn Az — LĐTT" in contact.said and "\n1. " not in contact.said
    contact.press("Ghi quyết định của Giám đốc")
    contact.text("15/QĐ-HB")
    contact.text("02/03/2026")
    assert "25. Nguyễn Văn Ay" in contact.said and "26." not in contact.said
    contact.press("Trang sau (2/2)")
    assert "30. Nguyễn Văn Bd — LĐTT" in contact.said
    contact.text("27, 3")  # numbers count through every page
    assert "Ghi 28 đề nghị được công nhận và 2 đề nghị không được công nhận" in contact.said
    contact.press("Ghi kết quả")
    with session_for(engine) as session:
        refused = {r.name for r in session.exec(select(AwardResult)) if not r.recognised}
    assert refused == {"Nguyễn Văn Ac", "Nguyễn Văn Ba"}
