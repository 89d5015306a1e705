"""The enterprise contact's path off the happy path: files taken where they are sent, figures
checked as a whole, choices typed, what was decided shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.texts.outbox import Renderer
from scheduler import dispatcher
from scheduler.dispatcher import Outcome, Outgoing, Port, SendResult
from storage.engine import session_for
from storage.models import AuditEvent, Nominee, Report, ReportDocument
from tests.conftest import NOW
from tests.factories import Clock, pdf_bytes, seed_world
from tests.fake_channel import FakeChat, make_core

REG = "Đăng ký danh hiệu thi đua —"
YEAR_END = "Báo cáo tổng kết năm —"


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


def _figures(engine: Engine) -> dict[str, object]:
    with session_for(engine) as session:
        return dict(session.exec(select(Report)).one().figures)


def test_figures_resume_go_back_and_are_checked_as_a_whole_with_kept_values(
    chat: FakeChat, engine: Engine
) -> None:
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    chat.text("1.000 người")
    chat.text("850")
    chat.text("12tr5")  # the revenue, typed as people type it
    assert "Doanh thu (đồng) = 12.500.000 đ" in chat.said
    chat.command("/back")  # the previous figure, not the report's page
    assert "Bước 3/16: Doanh thu" in chat.said
    chat.command("/back")
    assert "Bước 2/16:" in chat.said
    chat.text("hai trăm")
    assert "không phải là số người" in chat.said and "1.250 người" in chat.said
    chat.command("/menu")
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    assert "Bước 4/16:" in chat.said  # resumes at the first figure not given
    for typed in ("2 tỷ 300 triệu", "0", "12 triệu/tháng", "0", "0", "0", "0"):
        chat.text(typed)
    chat.text("1")  # social insurance, by its number
    for typed in ("900", "100", "0", "0"):
        chat.text(typed)
    chat.press("Bỏ qua")
    chat.send_file(pdf_bytes(), "bao-cao.pdf")
    chat.press("Chuyển sang xem lại")
    chat.text("1")  # the review lists every figure by number: change the workers
    assert "Bước 1/16:" in chat.said
    chat.text("500")  # now fewer than the 850 women kept from before
    said = chat.said
    assert "Cần sửa trước khi nộp:" in said and "(số liệu 2: gõ 2 để sửa)" in said
    assert "(số liệu 12: gõ 12 để sửa)" in said  # 1.000 awards for 500 workers
    assert "Xác nhận và nộp" not in [c.label for c in chat.last.replies[-1].choices]
    chat.text("2")
    chat.text("300")
    chat.text("12")
    chat.text("200")
    assert "Cần sửa trước khi nộp:" not in chat.said
    chat.press("Xác nhận và nộp")
    assert "Đã nộp. Số tiếp nhận BC-2026-0001" in chat.said
    assert _figures(engine)["workers_female"] == 300


def test_choices_are_picked_by_number_or_words_on_every_channel(
    chat: FakeChat, engine: Engine
) -> None:
    chat.press(REG)
    chat.press("Bước 2/3")
    chat.text("them ca nhan")  # a button's own words, typed without diacritics
    assert "họ và tên" in chat.said.lower()
    chat.command("/menu")
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    for typed in ("1.000", "400", "2 tỷ", "0", "0", "10 triệu", "0", "0", "0", "0"):
        chat.text(typed)
    asked = chat.last.replies[-1]
    assert "Bước 11/16: Việc đóng bảo hiểm xã hội" in asked.text
    assert not asked.typed  # numbered in the terminal and on Zalo, as the buttons are
    chat.text("3")
    assert "Đã lưu: Việc đóng bảo hiểm xã hội = Đóng chậm" in chat.said
    chat.command("/back")
    chat.text("dong day du, dung han")
    assert _figures(engine)["social_insurance"] == "full"


def _add_person(chat: FakeChat, name: str, title: str, award: str) -> None:
    chat.press("Thêm cá nhân")
    chat.text(name)
    chat.text("Công nhân")
    chat.press(title)
    chat.press(award)


def _rows(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    with session_for(engine) as session:
        return sorted(
            (n.name, n.title_code, n.award_code, n.position) for n in session.exec(select(Nominee))
        )


def test_rows_keep_what_is_not_changed_and_names_are_checked(
    chat: FakeChat, engine: Engine, tmp_path: Path
) -> None:
    chat.press(REG)
    chat.press("Bước 2/3")
    chat.press("Thêm cá nhân")
    chat.text("Nguyễn Văn 😀")
    assert "có ký tự không dùng trong tên (😀)" in chat.said
    chat.text('=HYPERLINK("http://x")')
    assert "là công thức bảng tính, không phải họ tên" in chat.said
    chat.text("nguyễn văn hưởng")
    chat.text("Công nhân")
    chat.press("Lao động tiên tiến")
    chat.press("Giấy khen")
    assert _rows(engine) == [("Nguyễn Văn Hưởng", "ldtt", "giay_khen", "Công nhân")]  # proper case
    chat.press("Sửa thông tin một người")
    chat.text("1")
    for _step in range(4):  # name, position, title, commendation: all kept
        chat.press("Giữ nguyên")
    assert "Đã sửa: Nguyễn Văn Hưởng." in chat.said
    assert _rows(engine) == [("Nguyễn Văn Hưởng", "ldtt", "giay_khen", "Công nhân")]
    chat.press("Xoá một dòng")
    chat.text("1")
    chat.press("Không, giữ lại")
    assert "Chưa xoá dòng nào." in chat.said and len(_rows(engine)) == 1
    chat.command("/menu")
    chat.press(REG)
    chat.press("Bước 1/3")
    chat.press("Thêm tập thể")
    chat.text("Phòng Kỹ thuật")
    chat.press("Tập thể lao động tiên tiến")
    chat.press("Không đề nghị")
    chat.press("Sửa một tập thể")
    chat.text("1")
    chat.text("Phòng Kỹ thuật - Cơ điện")
    chat.press("Giữ nguyên")
    chat.press("Không đề nghị")
    assert ("Phòng Kỹ thuật - Cơ điện", "tt_ldtt", None, None) in _rows(engine)


def test_form_rows_say_what_is_wrong_and_the_replace_question_counts_the_draft(
    chat: FakeChat, engine: Engine, tmp_path: Path
) -> None:
    chat.press(REG)
    chat.press("Bước 2/3")
    _add_person(chat, "Lê Thị An", "Lao động tiên tiến", "Không đề nghị")
    _add_person(chat, "Trần Văn Bình", "Lao động tiên tiến", "Không đề nghị")
    chat.press("Tải mẫu Excel")
    sent = next(r.file for r in chat.last.replies if r.file)
    assert sent is not None
    book = openpyxl.load_workbook(sent.path)
    people = book["Cá nhân"]
    people.append([3, "Phạm Văn Cường", "Tổ trưởng", "", "", ""])
    people.append([4, "Đỗ Thị Dung", "Kế toán", "Tập thể lao động tiên tiến", "", ""])
    form = tmp_path / "form.xlsx"
    book.save(form)
    chat.send_file(form.read_bytes(), "form.xlsx")
    said = chat.said
    assert "Thiếu danh hiệu thi đua" in said and "“”" not in said
    assert "“Tập thể lao động tiên tiến” dành cho tập thể, không dành cho cá nhân" in said
    assert "Thay 2 dòng hiện có trong bản nháp bằng 2 dòng này?" in said


class _Phone:
    """The clerk's phone as the outbox reaches it: what each chat was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, chat_id: str, message: Outgoing) -> SendResult:
        self.sent.append((chat_id, message.text))
        return SendResult(Outcome.SENT)


async def _deliver(engine: Engine, chat: FakeChat, clock: Clock) -> list[tuple[str, str]]:
    phone = _Phone()
    await dispatcher.dispatch(
        engine, ports={"fake": Port(phone, rate=1000, per_chat=0)},
        render=Renderer(chat.core.settings, clock), clock=clock,
    )  # fmt: skip
    return phone.sent


async def test_a_clerk_walks_the_year_and_the_board_returns_then_approves(
    chat: FakeChat, engine: Engine, tmp_path: Path, clock: Clock, codes: dict[str, str]
) -> None:
    board = FakeChat(chat.core, "b1")
    board.command(f"/start {codes['board']}")
    board.press("Đồng ý")
    form = _filled_form(chat, tmp_path, "Nguyễn Thị Hoà", "Trần Văn Đức")
    chat.send_file(form, "dang-ky.xlsx")  # from the registration page
    chat.press("Đồng ý, dùng danh sách này")
    chat.press("Xác nhận và nộp")
    assert "Đã nộp. Số tiếp nhận DK-2026-0001" in chat.said
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    for typed in ("1.000", "850", "200 tỷ", "0", "0", "10 triệu", "0", "0", "0", "0", "1",
                  "400", "50", "0", "0"):  # fmt: skip
        chat.text(typed)
    chat.press("Bỏ qua")
    chat.command("/menu")
    chat.press(YEAR_END)
    chat.send_file(pdf_bytes(), "bao-cao-da-ky.pdf")  # from the report's page
    chat.press("Chuyển sang xem lại")
    chat.text("1")
    chat.text("800")  # fewer workers than the 850 women kept
    assert "Cần sửa trước khi nộp:" in chat.said
    assert "Xác nhận và nộp" not in [c.label for c in chat.last.replies[-1].choices]
    chat.text("2")
    chat.text("500")
    chat.press("Xác nhận và nộp")
    assert "Đã nộp. Số tiếp nhận BC-2026-0001" in chat.said
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    board.press("trả lại để sửa")
    board.text("Ghi rõ chức vụ của Trần Văn Đức.")
    sent = await _deliver(engine, chat, clock)
    assert [c for c, _ in sent] == ["c1"] and "Ghi rõ chức vụ của Trần Văn Đức." in sent[0][1]
    chat.command("/menu")
    said = chat.said
    assert "Ban Quản lý: trả lại để sửa — “Ghi rõ chức vụ của Trần Văn Đức.”" in said
    assert "Anh/Chị vui lòng sửa rồi nộp lại." in said
    assert "Báo cáo tổng kết năm: đã nộp, số tiếp nhận BC-2026-0001" in said
    chat.press("Đăng ký danh hiệu thi đua — bị trả lại, cần nộp lại")
    assert "Tình trạng: đã nộp, số tiếp nhận DK-2026-0001 (phiên bản 1)" in chat.said
    chat.press("Bước 3/3")
    chat.press("Xác nhận và nộp")  # nothing changed: the board asked for it again anyway
    assert "phiên bản 2" in chat.said
    notice = chat.last.board[0].text
    assert "đã gửi lại bản đăng ký: phiên bản 2" in notice and "thay cho DK-2026-0001" in notice
    assert "Trước đó Ban Quản lý đã trả lại để sửa." in notice
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    board.press("đã duyệt")
    sent = await _deliver(engine, chat, clock)
    assert [c for c, _ in sent] == ["c1"] and "đã duyệt" in sent[0][1]
    chat.command("/menu")
    assert "Ban Quản lý: đã duyệt" in chat.said
    with session_for(engine) as session:  # the year is on record, not only admin commands
        actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"registration.submit", "registration.resubmit", "report.submit", "review",
            "contact.link"} <= actions  # fmt: skip


def test_a_new_code_on_a_linked_chat_says_what_it_leaves_and_codes_can_be_read_out(
    chat: FakeChat, codes: dict[str, str], engine: Engine
) -> None:
    read_out = codes["board"].replace("-", " ").lower()  # as dictated over the phone
    chat.command(f"/start {read_out}")
    said = chat.said
    assert "đang liên kết với Công ty TNHH Hoà Bình (mã số thuế 0100109106)" in said
    assert "sẽ rời liên kết đó" in said and "cán bộ Ban Quản lý" in said
    chat.press("Không, huỷ")
    assert "Đã huỷ. Không có gì thay đổi." in chat.said
    chat.command("/menu")
    assert "Doanh nghiệp: Công ty TNHH Hoà Bình" in chat.said  # still the enterprise's contact


def test_help_explains_the_year_and_how_to_reach_the_office(
    engine: Engine, tmp_path: Path, codes: dict[str, str]
) -> None:
    core = make_core(
        engine, tmp_path, lambda: NOW, board_contact="Văn phòng Ban Quản lý",
        board_phone="0222 3 888 888", board_email="vanphong@example.gov.vn",
    )  # fmt: skip
    clerk = FakeChat(core, "c2")
    clerk.command(f"/start {codes['contact']}")
    clerk.press("Đồng ý")
    clerk.command("/help")
    said = clerk.said
    assert "1. Đăng ký danh hiệu thi đua, hạn cuối thứ Ba, 14/04/2026" in said
    assert "tải mẫu Excel, điền rồi gửi lại tệp vào đây" in said
    assert "3. Báo cáo tổng kết năm, hạn cuối thứ Sáu, 04/12/2026" in said
    assert "Nếu Ban trả lại, Anh/Chị sửa rồi nộp lại" in said
    assert (
        "Văn phòng Ban Quản lý (điện thoại 0222 3 888 888, email vanphong@example.gov.vn)" in said
    )
    clerk.command("/menu")
    clerk.press(YEAR_END)
    clerk.send_file(b"x", "bao-cao.pdf", size=25 * 1024 * 1024)
    assert "email vanphong@example.gov.vn" in clerk.said  # where to send it instead


def test_the_demo_campaign_is_open_on_the_day_it_is_seeded(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.demo import seed_demo
    from storage import campaigns as campaign_store
    from storage.engine import make_engine
    from storage.migrate import upgrade

    december = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # the plan's registration long closed
    engine = make_engine(f"sqlite:///{tmp_path}/demo.sqlite3")
    upgrade(engine)
    with session_for(engine) as session:
        seed_demo(session=session, now=december, tz=ZoneInfo("Asia/Ho_Chi_Minh"), board_name="B")
        campaign = campaign_store.get_campaign(session=session)
        assert campaign is not None and campaign.year == 2026
        dues = {
            m.kind: m.due_at for m in campaign_store.milestones(session=session, campaign=campaign)
        }
    assert december < dues["registration"] < dues["midyear"] < dues["report"]
    assert dues["registration"] - december < timedelta(days=16)


def test_a_step_waiting_for_a_file_explains_a_wrong_one_rather_than_passing_it_on(
    chat: FakeChat, engine: Engine
) -> None:
    chat.press(REG)
    chat.press("Gửi mẫu Excel đã điền")
    chat.send_file(pdf_bytes(), "dang-ky-thi-dua.pdf")  # the wrong file, in the upload step
    assert "Không tìm thấy bảng có cột “Họ và tên”" in chat.said  # it says what it expected
    assert "báo cáo đã ký" not in chat.said
    with session_for(engine) as session:
        assert session.exec(select(ReportDocument)).all() == []  # nothing attached anywhere


def test_changing_a_cstdcs_to_ldtt_drops_the_initiative(chat: FakeChat, engine: Engine) -> None:
    chat.press(REG)
    chat.press("Bước 2/3")
    chat.press("Thêm cá nhân")
    chat.text("Trần Văn Đức")
    chat.press("Bỏ qua")
    chat.press("Chiến sĩ thi đua cơ sở")
    chat.press("Không đề nghị")
    chat.text("Sáng kiến X")
    chat.press("Sửa thông tin một người")
    chat.text("1")
    chat.press("Giữ nguyên")
    chat.press("Bỏ qua")
    chat.press("Lao động tiên tiến")
    chat.press("Không đề nghị")
    with session_for(engine) as session:
        row = session.exec(select(Nominee)).one()
        assert (row.title_code, row.initiative) == ("ldtt", None)
