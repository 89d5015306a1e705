"""Registering titles in chat, through the fake channel: by hand, by Excel, and the bad cases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import campaigns, registrations
from storage.engine import session_for
from storage.models import (
    Delivery,
    Enterprise,
    MilestoneKind,
    Nominee,
    Registration,
    SubmissionStatus,
)
from tests.conftest import NOW
from tests.factories import Clock, seed_world
from tests.fake_channel import FakeChat, make_core

REG = "Đăng ký danh hiệu thi đua —"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def world(engine: Engine) -> dict[str, str]:
    return seed_world(engine, NOW)[0]


@pytest.fixture
def core(engine: Engine, tmp_path: Path, clock: Clock):  # type: ignore[no-untyped-def]
    return make_core(engine, tmp_path, clock, board_chat_id="-100")


def _contact(core, world, chat_id: str = "c1", name: str = "Nguyễn Thị Hoà") -> FakeChat:  # type: ignore[no-untyped-def]
    chat = FakeChat(core, chat_id, user_name=name)
    chat.command(f"/start {world['contact']}" if chat_id == "c1" else "/start")
    if chat_id == "c1":
        chat.press("Đồng ý")
    return chat


def _person(chat: FakeChat, name: str, title: str, *, position: str | None = None,
            award: str = "Không đề nghị", initiative: str | None = None) -> None:  # fmt: skip
    chat.press("Thêm cá nhân")
    chat.text(name)
    if position:
        chat.text(position)
    else:
        chat.press("Bỏ qua")
    chat.press(title)
    chat.press(award)
    if initiative is not None:
        chat.text(initiative) if initiative else chat.press("Chưa có sáng kiến")


def _submitted(engine: Engine) -> list[Registration]:
    with session_for(engine) as session:
        query = select(Registration).where(Registration.status == SubmissionStatus.SUBMITTED)
        return list(session.exec(query))


def test_registering_by_hand_from_menu_to_receipt(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    assert "Đăng ký danh hiệu thi đua năm 2026 — Công ty TNHH Hoà Bình" in chat.said
    assert "còn 43 ngày" in chat.said
    chat.press("Bước 1/3")
    assert "Chưa đăng ký tập thể nào." in chat.said
    chat.press("Thêm tập thể")
    chat.press("Công ty TNHH Hoà Bình")  # the whole enterprise
    chat.press("Tập thể lao động xuất sắc")
    chat.press("Bằng khen của Chủ tịch")
    assert "Đề nghị theo căn cứ nào?" in chat.said  # the BK tỉnh rests on a basis: asked
    chat.text("2 năm liền Tập thể lao động xuất sắc 2024, 2025")
    assert "Đã thêm: Công ty TNHH Hoà Bình" in chat.said
    assert "(căn cứ: 2 năm liền Tập thể lao động xuất sắc 2024, 2025)" in chat.said
    chat.press("Tiếp tục: Bước 2/3")
    _person(chat, "Trần Văn Đức", "Chiến sĩ thi đua cơ sở", position="Kỹ sư, Phòng Kỹ thuật",
            award="Giấy khen", initiative="Cải tiến dây chuyền sơn")  # fmt: skip
    _person(chat, "Lê Thị An", "Lao động tiên tiến")
    assert "1. Lê Thị An — LĐTT\n2. Trần Văn Đức — Kỹ sư, Phòng Kỹ thuật — CSTĐCS, GK" in chat.said
    chat.press("Tiếp tục: Bước 3/3")
    review = chat.said
    assert "Bước 3/3" in review and "Tổng hợp:" in review and "⚠" not in review
    assert (
        "Khi bấm “Xác nhận và nộp”, Anh/Chị cam kết không ai trong danh sách đang bị kỷ luật,"
        " đang bị điều tra hoặc có khiếu nại, tố cáo chưa được giải quyết (Nghị định"
        " 152/2025/NĐ-CP, Điều 4 khoản 4)"
    ) in review
    assert "100% thành viên của các tập thể đề nghị Tập thể lao động xuất sắc" in review
    chat.press("Xác nhận và nộp")
    assert (
        "Đã nộp. Số tiếp nhận DK-2026-0001, phiên bản 1, lúc 08:30 thứ Hai, 02/03/2026."
        in chat.said
    )
    assert next(r.text for r in chat.last.board).startswith(
        "Đăng ký mới DK-2026-0001 (phiên bản 1)"
    )
    assert "1/1 doanh nghiệp đã đăng ký." in chat.last.board[0].text
    assert "Đã cam kết khi nộp: không ai trong danh sách" in chat.last.board[0].text
    (submitted,) = _submitted(engine)
    assert submitted.attested_at is not None
    with session_for(engine) as session:  # queued for the board's chat with the submission
        notices = session.exec(select(Delivery).where(Delivery.kind == "notice")).all()
        assert [n.chat_id for n in notices] == ["-100"]
        assert str(notices[0].payload["text"]).startswith("Đăng ký mới DK-2026-0001")
    chat.press(REG)
    assert "Tình trạng: đã nộp, số tiếp nhận DK-2026-0001 (phiên bản 1)" in chat.said
    chat.press("Xem bản đã nộp")
    assert "Trần Văn Đức" in chat.said


def test_warnings_are_shown_before_confirming(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Bước 1/3")
    chat.press("Thêm tập thể")
    chat.text("Phòng Kỹ thuật")
    chat.press("Tập thể lao động xuất sắc")
    chat.press("Không đề nghị")
    chat.press("Tiếp tục: Bước 2/3")
    _person(chat, "Nguyễn Văn Hoà", "Lao động tiên tiến")
    _person(chat, "nguyễn văn hòa", "Lao động tiên tiến")
    chat.press("Tiếp tục: Bước 3/3")
    assert "⚠ “Nguyễn Văn Hòa” xuất hiện hai lần (trùng với “Nguyễn Văn Hoà”)" in chat.said
    assert "cần có ít nhất một Chiến sĩ thi đua cơ sở" in chat.said
    assert "152/2025/NĐ-CP" in chat.said
    chat.press("Xác nhận và nộp")
    assert "⚠" in chat.last.board[0].text  # the board sees the warnings too


def test_bad_names_are_refused_in_chat_and_the_draft_keeps_its_rows(
    core, world, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Bước 2/3")
    _person(chat, "Lê Thị An", "Lao động tiên tiến")
    chat.press("Thêm cá nhân")
    for bad, reason in (
        ("12345", "không có chữ cái"),
        ("😀😀", "không có chữ cái"),
        ("x" * 300, "dài quá"),
    ):
        chat.text(bad)
        assert reason in chat.said
    chat.other()
    assert "chỉ đọc được tin nhắn chữ" in chat.said
    chat.command("/cancel")
    with session_for(engine) as session:
        assert [n.name for n in session.exec(select(Nominee))] == ["Lê Thị An"]


def test_drafts_survive_a_restart_and_rows_can_be_changed_and_removed(
    engine: Engine, tmp_path: Path, world, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(make_core(engine, tmp_path, clock), world)
    chat.press(REG)
    chat.press("Bước 2/3")
    for name in ("Lê Thị An", "Phạm Văn Bình", "Đỗ Văn Cường"):
        _person(chat, name, "Lao động tiên tiến")
    chat.core = make_core(engine, tmp_path, clock)  # the next day, a new process
    chat.command("/menu")
    chat.press(REG)
    assert "Hiện có: 0 tập thể, 3 cá nhân." in chat.said
    chat.press("Bước 2/3")
    chat.press("Sửa thông tin một người")
    chat.text("2")  # Phạm Văn Bình
    chat.press("Giữ nguyên: Phạm Văn Bình")
    chat.text("Tổ trưởng")
    chat.press("Chiến sĩ thi đua cơ sở")
    chat.press("Giấy khen")
    chat.text("Sáng kiến tiết kiệm điện")
    assert "Đã sửa: Phạm Văn Bình." in chat.said
    chat.press("Xoá một dòng")
    chat.text("99")
    assert "từ 1 đến 3" in chat.said
    chat.text("1")  # Lê Thị An
    assert "Xoá “Lê Thị An” khỏi bản nháp?" in chat.said  # asked first
    chat.press("Đồng ý xoá")
    assert "Đã xoá: Lê Thị An." in chat.said
    with session_for(engine) as session:
        rows = {n.name: (n.title_code, n.position) for n in session.exec(select(Nominee))}
    assert rows == {"Phạm Văn Bình": ("cstdcs", "Tổ trưởng"), "Đỗ Văn Cường": ("ldtt", None)}


def test_a_double_click_on_confirm_submits_once(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Bước 2/3")
    _person(chat, "Lê Thị An", "Lao động tiên tiến")
    chat.press("Tiếp tục: Bước 3/3")
    token = chat.token("Xác nhận và nộp")
    chat.press("Xác nhận và nộp")
    chat._send(kind="choice", choice=token)
    assert "nút của một tin nhắn trước" in chat.said
    assert len(_submitted(engine)) == 1


def test_two_contacts_editing_at_once_lose_nothing(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    first = _contact(core, world)
    with session_for(engine) as session:
        enterprise = session.exec(select(Enterprise)).one()
        from storage import invitations
        from storage.models import Role

        code = invitations.create_invitation(
            session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
        ).code
        session.commit()
    second = FakeChat(core, "c2", user_name="Trần Văn Bình")
    second.command(f"/start {code}")
    second.press("Đồng ý")
    for chat in (first, second):
        chat.press(REG)
        chat.press("Bước 2/3")
    _person(first, "Lê Thị An", "Lao động tiên tiến")
    first.press("Tiếp tục: Bước 3/3")
    _person(second, "Phạm Văn Cường", "Lao động tiên tiến")  # after the first opened the summary
    first.press("Xác nhận và nộp")
    assert "vừa được Trần Văn Bình sửa" in first.said
    assert "Phạm Văn Cường" in first.said  # the summary shown again includes the other's row
    second.press("Tiếp tục: Bước 3/3")  # both now look at the same summary
    first.press("Xác nhận và nộp")
    assert "DK-2026-0001" in first.said
    second.press("Xác nhận và nộp")
    assert "Nguyễn Thị Hoà đã nộp bản nháp này thành DK-2026-0001" in second.said
    second.press("Xác nhận và nộp")
    assert "Không có gì thay đổi so với DK-2026-0001" in second.said
    assert len(_submitted(engine)) == 1


def test_closed_after_the_cutoff_unless_extended(core, world, engine: Engine, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    clock.now = NOW + timedelta(days=60)
    chat.command("/menu")
    chat.press("Đăng ký danh hiệu thi đua — đã hết hạn thứ Ba, 14/04/2026")
    assert "Việc đăng ký năm 2026 đã kết thúc lúc 23:59 thứ Ba, 14/04/2026" in chat.said
    assert "0222 3 888 888" in chat.said
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.exec(select(Enterprise)).one()
        assert campaign is not None
        registrations.extend(
            session=session, campaign=campaign, enterprise=enterprise,
            kind=MilestoneKind.REGISTRATION, until=clock.now + timedelta(days=3),
            granted_by="t", now=clock.now,
        )  # fmt: skip
        session.commit()
    chat.command("/menu")
    chat.press(REG)
    assert "Đăng ký danh hiệu thi đua năm 2026" in chat.said and "còn 3 ngày" in chat.said
    chat.press("Bước 2/3")
    _person(chat, "Lê Thị An", "Lao động tiên tiến")
    chat.press("Tiếp tục: Bước 3/3")
    clock.now += timedelta(days=4)
    chat.press("Xác nhận và nộp")
    assert "đã kết thúc lúc" in chat.said
    assert _submitted(engine) == []


def _version(engine: Engine) -> int:
    from storage.models import Conversation

    with session_for(engine) as session:
        return session.exec(select(Conversation).where(Conversation.chat_id == "c1")).one().version


def _fill(form: Path, rows: list[list[object]], groups: list[list[object]] = ()) -> Path:  # type: ignore[assignment]
    book = openpyxl.load_workbook(form)
    for row in rows:
        book["Cá nhân"].append(row)
    for row in groups:
        book["Tập thể"].append(row)
    book.save(form)
    return form


def test_registering_by_excel(core, world, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Tải mẫu Excel")
    sent = next(r.file for r in chat.last.replies if r.file)
    assert sent is not None and sent.name == "dang-ky-thi-dua-2026-0100109106.xlsx"
    form = tmp_path / "filled.xlsx"
    form.write_bytes(sent.path.read_bytes())
    _fill(
        form,
        [
            [1, "Nguyễn Thị Hoà", "Kế toán", "Lao động tiên tiến", "", ""],
            [2, "Trần Văn Đức", "Kỹ sư", "Chiến sĩ thi đua cơ sở", "Giấy khen", "Sáng kiến A"],
            [3, "12345", "x", "Lao động tiên tiến", "", ""],
            [4, "Lê Văn Em", "x", "Anh hùng lao động", "", ""],
        ],
        [[1, "Phòng Kỹ thuật", "Tập thể lao động xuất sắc", "Bằng khen của Chủ tịch UBND tỉnh"]],
    )
    chat.press("Gửi mẫu Excel đã điền")
    for content, name, reason in (
        (b"%PDF-1.7\x00\x01", "ds.xlsx", "không phải bảng tính"),
        (b"PK\x03\x04broken", "ds.xlsx", "bị hỏng"),
    ):
        chat.send_file(content, name)
        assert reason in chat.said
    locked = tmp_path / "locked.xlsx"
    with form.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("matkhau", target)
    chat.send_file(locked.read_bytes(), "locked.xlsx")
    assert "đặt mật khẩu" in chat.said
    chat.send_file(b"x", "huge.xlsx", size=25 * 1024 * 1024)
    assert "vượt giới hạn 20 MB" in chat.said
    chat.send_file(form.read_bytes(), "../../etc/passwd")
    said = chat.said
    assert "Tệp có 1 tập thể và 2 cá nhân hợp lệ." in said
    assert "Trang “Cá nhân”, dòng 6: “12345” không phải là tên" in said
    assert "Trang “Cá nhân”, dòng 7: “Anh hùng lao động” không có trong danh mục" in said
    chat.press("Đồng ý, dùng danh sách này")
    assert "Bản nháp nay gồm 3 dòng từ tệp" in chat.said and "Bước 3/3" in chat.said
    chat.press("Xác nhận và nộp")
    assert "DK-2026-0001" in chat.said
    uploads = list((Path(core.settings.data_dir) / "uploads").iterdir())
    assert len(uploads) == 1 and len(uploads[0].stem) == 64  # stored by its sha256, not its name


def test_a_crafted_button_cannot_reach_another_chat_or_enterprise(
    core, world, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Bước 2/3")
    _person(chat, "Lê Thị An", "Lao động tiên tiến")
    stranger = FakeChat(core, "s1")
    stranger.command("/start")
    for data in (chat.token("Xoá một dòng"), "0:remove", "1:ms:registration", "x" * 64):
        stranger._send(kind="choice", choice=data)
        assert (
            "nút của một tin nhắn trước" in stranger.said or "chưa được liên kết" in stranger.said
        )
    with session_for(engine) as session:
        assert [n.name for n in session.exec(select(Nominee))] == ["Lê Thị An"]


def test_a_reminder_button_opens_the_flow_from_any_step(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = _contact(core, world)
    chat.command("/lang")  # somewhere else entirely
    chat._send(kind="choice", choice="g:open:registration")
    assert "Đăng ký danh hiệu thi đua năm 2026" in chat.said
    chat._send(kind="choice", choice="g:nothing:here")
    assert "nút của một tin nhắn trước" in chat.said


def test_optional_details_are_asked_apart_and_kept_when_a_row_changes(  # type: ignore[no-untyped-def]
    core, world, engine: Engine
) -> None:
    chat = _contact(core, world)
    chat.press(REG)
    chat.press("Bước 2/3")
    _person(chat, "Lê Thị An", "Lao động tiên tiến", position="Kế toán")
    _person(chat, "Trần Văn Đức", "Lao động tiên tiến")
    chat.press("Đối tượng, giới tính (không bắt buộc)")
    assert "Lê Thị An (Kế toán) — đối tượng để thống kê (không bắt buộc; còn 2 dòng)" in chat.said
    chat.press("Người lao động trực tiếp")
    chat.press("Nữ")
    chat.press("Bỏ qua")  # Đức's category unknown
    chat.press("Nam")
    assert "Đã lưu thông tin" in chat.said
    chat.press("Sửa thông tin một người")
    chat.text("1")
    chat.press("Giữ nguyên: Lê Thị An")
    chat.text("Kế toán trưởng")
    chat.press("Lao động tiên tiến")
    chat.press("Không đề nghị")
    with session_for(engine) as session:
        rows = {n.name: (n.position, n.category, n.gender)
                for n in session.exec(select(Nominee))}  # fmt: skip
    assert rows == {"Lê Thị An": ("Kế toán trưởng", "worker", "female"),
                    "Trần Văn Đức": (None, None, "male")}  # fmt: skip
    chat.press("Đối tượng, giới tính (không bắt buộc)")
    assert "Trần Văn Đức — đối tượng" in chat.said and "Lê Thị An" not in chat.said
    chat.press("Dừng tại đây")
    assert "Bước 2/3" in chat.said
    chat.press("Về trang đăng ký")
    chat.press("Bước 1/3")
    chat.press("Thêm tập thể")
    chat.text("Phòng Kỹ thuật")
    chat.press("Tập thể lao động tiên tiến")
    chat.press("Không đề nghị")
    chat.press("Số người của tập thể (không bắt buộc)")
    chat.text("mười hai")
    assert "không phải là số người" in chat.said
    chat.text("12")
    with session_for(engine) as session:
        group = session.exec(select(Nominee).where(Nominee.kind == "collective")).one()
    assert group.members == 12
