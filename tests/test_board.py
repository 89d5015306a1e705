"""The board's progress and owing views, who may see them, and reminding from the list."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.types import Result
from bot.texts.outbox import Renderer
from scheduler import dispatcher
from storage import invitations, links, registry
from storage.engine import session_for
from storage.models import AuditEvent, Delivery, Role
from tests.conftest import NOW
from tests.factories import ports_for, seed_world
from tests.fake_channel import FakeChat, board_contact_stranger, make_core
from tests.test_reminders import FakeSender


def _setup(engine: Engine, tmp_path: Path) -> tuple[FakeChat, FakeChat, FakeChat]:
    codes, _ = seed_world(engine, NOW)
    with session_for(engine) as session:
        zone = registry.find_zone(session=session, name="KCN Quế Võ")
        other = registry.add_enterprise(
            session=session, tax_code="0101243150", name="Công ty Sao Mai", now=NOW, zone=zone
        )
        registry.add_contact(
            session=session, full_name="Chưa Liên Kết", now=NOW, enterprise=other,
            phone="0912345678",
        )  # fmt: skip
        session.commit()
    return board_contact_stranger(make_core(engine, tmp_path, lambda: NOW), codes)


def _admin(engine: Engine, board: FakeChat, chat_id: str) -> FakeChat:
    """An admin's chat, linked with a fresh invitation, beside the board's."""
    with session_for(engine) as session:
        code = invitations.create_invitation(
            session=session, role=Role.ADMIN, created_by="t", now=NOW
        ).code
        session.commit()
    admin = FakeChat(board.core, chat_id)
    admin.command(f"/start {code}")
    admin.press("Đồng ý")
    return admin


def test_only_the_board_sees_progress_and_owing(engine: Engine, tmp_path: Path) -> None:
    board, contact, stranger = _setup(engine, tmp_path)
    for chat in (contact, stranger):
        for line in ("/progress", "/owing"):
            chat.command(line)
            assert "chỉ dành cho cán bộ Ban Quản lý" in chat.said
    board.command("/progress")
    assert "Đăng ký danh hiệu thi đua: 0/2 đã nộp (0%)" in board.said
    assert "• KCN Quế Võ: 0 đã nộp, 2 chưa nộp" in board.said
    assert "Biểu đồ theo khu công nghiệp sẽ được gửi ngay sau đây." in board.said
    chart = board.sent_file  # drawn aside, after the figures were answered
    assert chart is not None and chart.path.read_bytes().startswith(b"\x89PNG")


def test_owing_lists_contacts_and_reminds_them(engine: Engine, tmp_path: Path) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    board.command("/owing")
    board.press("Đăng ký danh hiệu thi đua")
    said = board.said
    assert "còn 2 doanh nghiệp chưa nộp" in said
    assert "Công ty TNHH Hoà Bình (0100109106) — Nguyễn Thị Hoà (đã liên kết)" in said
    assert "Công ty Sao Mai (0101243150) — Chưa Liên Kết (chưa liên kết, 0912 345 678)" in said
    assert "1 doanh nghiệp trong số này chưa có tài khoản chat liên kết" in said
    assert "thidua invite create --all-unlinked" in said
    token = board.token("Nhắc tất cả ngay")
    board.press("Nhắc tất cả ngay")
    assert "Đã xếp 1 tin nhắc nhở" in board.said
    assert "1 doanh nghiệp trong số này chưa có tài khoản chat liên kết" in board.said
    board._send(kind="choice", choice=token)  # a double tap hits a stale button
    assert "nút của một tin nhắn trước" in board.said
    board.command("/owing")
    board.press("Đăng ký danh hiệu thi đua")
    board.press("Nhắc tất cả ngay")  # again within the same minute: already queued
    assert "Đã xếp 0 tin nhắc nhở" in board.said
    with session_for(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == "reminder")).all()
        assert [(r.chat_id, r.status) for r in rows] == [("c1", "pending")]
        actions = session.exec(select(AuditEvent.action)).all()
        assert actions.count("reminders.manual") == 2  # each request is audited


async def test_queued_reminders_go_out_through_the_outbox(engine: Engine, tmp_path: Path) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    board.command("/owing")
    board.press("Đăng ký danh hiệu thi đua")
    board.press("Nhắc tất cả ngay")
    sender = FakeSender()
    stats = await dispatcher.dispatch(
        engine,
        ports=ports_for(sender),
        render=Renderer(board.core.settings, lambda: NOW),
        clock=lambda: NOW,
    )
    assert stats.sent == 1 and sender.sent[0][0] == "c1"
    assert "còn 43 ngày — hạn thứ Ba, 14/04/2026" in sender.sent[0][1]


def test_blocked_contacts_show_as_such(engine: Engine, tmp_path: Path) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    with session_for(engine) as session:
        assert links.mark_unreachable(session=session, channel="fake", chat_id="c1")
        session.commit()
    board.command("/owing")
    board.press("Đăng ký danh hiệu thi đua")
    assert "Nguyễn Thị Hoà (đã chặn bot)" in board.said
    assert "Nhắc tất cả ngay" in [c.label for c in board.last.replies[-1].choices]


def test_aggregated_lists_in_chat(engine: Engine, tmp_path: Path) -> None:
    board, contact, stranger = _setup(engine, tmp_path)
    for chat in (contact, stranger):
        chat.command("/lists")
        assert "chỉ dành cho cán bộ Ban Quản lý" in chat.said
    board.command("/lists")
    for label, name, suffix in (
        ("Danh sách đăng ký danh hiệu", "dang-ky-thi-dua-2026.xlsx", b"PK"),
        ("Số liệu báo cáo tổng kết", "so-lieu-bao-cao-2026.xlsx", b"PK"),
        ("Tệp báo cáo tổng kết (zip)", "bao-cao-tong-ket-2026.zip", b"PK"),
        ("Thống kê khen thưởng (Biểu 0603.N)", "thong-ke-khen-thuong-2026.xlsx", b"PK"),
    ):
        board.press(label)
        sent = board.sent_file
        assert sent is not None and sent.name == name
        assert sent.path.read_bytes().startswith(suffix)
    board.press("Hồ sơ trình cấp trên: dự thảo tờ trình và danh sách")
    sent = [r.file for r in board.last.replies if r.file is not None]
    assert [f.name for f in sent] == [
        "to-trinh-khen-thuong-2026.docx", "danh-sach-de-nghi-khen-thuong-2026.xlsx",
    ]  # fmt: skip
    assert all(f.path.read_bytes().startswith(b"PK") for f in sent)
    assert "Dự thảo tờ trình 2026: 0 đề nghị" in board.said
    with session_for(engine) as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert {"export.registrations", "export.figures", "export.documents"} <= set(actions)
    assert "export.dossier" in actions


async def test_admins_broadcast_through_the_outbox(engine: Engine, tmp_path: Path) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    admin = _admin(engine, board, "a1")
    board.command("/broadcast")
    assert "chỉ dành cho quản trị viên" in board.said
    admin.command("/broadcast")
    admin.text("x" * 2001)
    assert "từ 1 đến 2000 ký tự" in admin.said
    admin.text("Kính gửi các doanh nghiệp: hạn đăng ký là 14/04. 1")
    admin.press("Doanh nghiệp chưa nộp: Đăng ký danh hiệu thi đua")
    assert "tới 1 tài khoản chat?" in admin.said
    assert "1 doanh nghiệp chưa có tài khoản chat liên kết nên sẽ không nhận được" in admin.said
    admin.press("Gửi")
    assert "Đã xếp 1 tin nhắn" in admin.said
    sender = FakeSender()
    stats = await dispatcher.dispatch(
        engine, ports=ports_for(sender), render=Renderer(board.core.settings, lambda: NOW),
        clock=lambda: NOW,
    )  # fmt: skip
    assert stats.sent == 1 and sender.sent == [
        ("c1", "Kính gửi các doanh nghiệp: hạn đăng ký là 14/04. 1")
    ]


def test_admins_invite_and_extend_in_chat(engine: Engine, tmp_path: Path) -> None:
    board, _contact, _stranger = _setup(engine, tmp_path)
    admin = _admin(engine, board, "a1")
    admin.command("/invite 0100109107")
    assert "sai chữ số kiểm tra" in admin.said
    admin.command("/invite 0101243150")
    invite_code = admin.said.split("Mã mời: ")[1].split()[0]
    newcomer = FakeChat(board.core, "n1", user_name="Người Mới")
    newcomer.command(f"/start {invite_code}")
    assert "Công ty Sao Mai" in newcomer.said
    admin.command("/invite board")
    assert "Mã mời:" in admin.said
    board.command("/campaign extend 0100109106 30/04/2026")
    assert "chỉ dành cho quản trị viên" in board.said
    board.command("/campaign")
    assert "Đăng ký danh hiệu thi đua: hạn cuối 23:59 thứ Ba, 14/04/2026" in board.said
    admin.command("/campaign extend 0100109106 hôm-nay")
    assert "ghi theo dạng" in admin.said
    admin.command("/campaign extend 0100109106 30/04/2026 registration")
    assert "được nộp đăng ký danh hiệu thi đua đến 23:59 thứ Năm, 30/04/2026" in admin.said
    with session_for(engine) as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert {"invite.create", "campaign.extend"} <= set(actions)


def test_admins_move_a_deadline_for_everyone(engine: Engine, tmp_path: Path) -> None:
    board, contact, _stranger = _setup(engine, tmp_path)
    admin = _admin(engine, board, "a2")
    board.command("/campaign set registration 20/04/2026")
    assert "chỉ dành cho quản trị viên" in board.said
    admin.command("/campaign set report 01/03/2026")
    assert "theo thứ tự" in admin.said  # before registration and mid-year: refused, nothing moved
    admin.command("/campaign set registration 20/04/2026")
    assert (
        "Đăng ký danh hiệu thi đua: hạn cuối 23:59 thứ Hai, 20/04/2026 (còn 49 ngày)" in admin.said
    )
    contact.command("/menu")
    assert "Đăng ký danh hiệu thi đua — hạn thứ Hai, 20/04/2026" in [
        c.label for c in contact.last.replies[-1].choices
    ]


def test_a_list_is_prepared_aside_and_asked_again_while_it_runs(
    engine: Engine, tmp_path: Path
) -> None:
    """The step answers at once; the list follows from the long work; a second request while it
    runs is told so, and starts nothing."""
    from bot.core.types import Incoming, Kind  # as a channel builds them

    board, _contact, _stranger = _setup(engine, tmp_path)
    board.command("/lists")
    core, token = board.core, board.token("Danh sách đăng ký danh hiệu")

    def press() -> Result:
        incoming = Incoming("fake", "b1", Kind.CHOICE, choice=token, language_code="vi")
        return core.handle(incoming)

    first = press()  # as a channel sees it: the answer now, the long work to run after it
    assert "Đang lập danh sách" in first.replies[0].text and len(first.aside) == 1
    assert not any(reply.file for reply in first.replies)
    second = press()
    assert "vẫn đang được lập" in second.replies[0].text and second.aside == []
    done = core.run_aside("fake", "b1", first.aside[0], first.language)
    assert done.file is not None and done.file.name == "dang-ky-thi-dua-2026.xlsx"
    assert "Đang lập danh sách" in press().replies[0].text  # finished: it may be asked again


def test_the_dossier_is_two_pieces_of_work_and_not_started_twice(
    engine: Engine, tmp_path: Path
) -> None:
    """The tờ trình and its list follow as two pieces; asked again while they run, the board is
    told so and nothing more starts."""
    from bot.core.types import Incoming, Kind

    board, _contact, _stranger = _setup(engine, tmp_path)
    board.command("/lists")
    core, token = board.core, board.token("Hồ sơ trình cấp trên: dự thảo tờ trình và danh sách")

    def press() -> Result:
        return core.handle(Incoming("fake", "b1", Kind.CHOICE, choice=token, language_code="vi"))

    first = press()
    assert [a.key for a in first.aside] == ["dossier", "dossier-list"]
    second = press()
    assert "vẫn đang được lập" in second.replies[0].text and second.aside == []
    for aside in first.aside:
        core.run_aside("fake", "b1", aside, first.language)
    assert [a.key for a in press().aside] == ["dossier", "dossier-list"]  # done: asked again


def test_a_move_that_closes_a_milestone_asks_first_and_far_days_are_refused(
    engine: Engine, tmp_path: Path
) -> None:
    board, contact, _stranger = _setup(engine, tmp_path)
    admin = _admin(engine, board, "a3")
    admin.command("/campaign set đăng ký 01/03/2026")  # yesterday: closes it for those owing
    assert "sẽ đóng ngay việc nộp của 2 doanh nghiệp chưa nộp" in admin.said
    admin.press("Không, giữ nguyên hạn")
    assert "Chưa dời hạn." in admin.said
    contact.command("/menu")
    assert "hạn cuối 23:59 thứ Ba, 14/04/2026" in contact.said  # nothing moved
    admin.command("/campaign set đăng ký 01/03/2026")
    admin.press("Đồng ý dời hạn")
    assert "Đăng ký danh hiệu thi đua: hạn cuối 23:59" in admin.said
    assert "01/03/2026 (đã quá hạn 1 ngày)" in admin.said
    admin.command("/campaign set sơ kết 01/01/1900")
    assert "quá xa phong trào năm 2026" in admin.said
    admin.command("/campaign extend 0100109106 31/12/9999 báo cáo")
    assert "quá xa phong trào năm 2026" in admin.said and "Xin lỗi" not in admin.said
    with session_for(engine) as session:
        moves = session.exec(select(AuditEvent.action).where(AuditEvent.action == "campaign.set"))
        assert len(moves.all()) == 1
