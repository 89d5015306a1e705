"""Onboarding, menu and common commands through the core, as any channel drives them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.compose import FLOWS
from bot.core.context import Ctx
from bot.core.engine import Core
from bot.core.flow import Flow, Router, Step
from storage import links, registry
from storage.engine import session_for
from storage.models import (
    AuditEvent,
    ChatLink,
    Contact,
    Conversation,
    Enterprise,
    Invitation,
    Role,
)
from tests.conftest import NOW
from tests.factories import Clock, registry_rows, seed_world, write_xlsx
from tests.fake_channel import FakeChat, make_core

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def world(engine: Engine) -> dict[str, object]:
    """A campaign, one enterprise, and invitation codes for each role."""
    codes, enterprise_id = seed_world(engine, NOW)
    return {"codes": codes, "enterprise_id": enterprise_id}


@pytest.fixture
def core(engine: Engine, tmp_path: Path, clock: Clock):  # type: ignore[no-untyped-def]
    return make_core(engine, tmp_path, clock)


def _link(chat: FakeChat, code: str) -> None:
    chat.command(f"/start {code}")
    chat.press("Đồng ý")


def test_stranger_is_told_how_to_get_a_code(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command("/start")
    assert "Chào mừng" in chat.said
    assert "chưa được liên kết" in chat.said and "0222 3 888 888" in chat.said
    chat.text("xin chào")
    assert "chưa được liên kết" in chat.said
    assert chat.said.startswith("Hệ thống chưa hiểu nội dung này.\n")
    assert "bấm một mục" not in chat.said  # no options it could point to
    chat.text("1")
    assert chat.said.startswith("Hệ thống chưa hiểu nội dung này.\n")
    assert "chưa được liên kết" in chat.said


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{spaced}"])
def test_a_code_typed_alone_starts_the_linking(core, world, typed: str) -> None:  # type: ignore[no-untyped-def]
    """Read off paper or passed on by a colleague, the code often comes without /start."""
    code = str(world["codes"]["contact"])
    chat = FakeChat(core)
    chat.text(typed.format(code=code, lower=code.lower(), spaced=code.replace("-", " ")))
    assert "sẽ được liên kết" in chat.said and "Công ty TNHH Hoà Bình" in chat.said
    chat.press("Đồng ý")
    assert "Đã liên kết" in chat.said


def test_a_linked_person_typing_a_code_is_not_relinked(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    _link(FakeChat(core, "1"), str(world["codes"]["contact"]))
    chat = FakeChat(core, "1")
    chat.text(str(world["codes"]["board"]))
    assert "sẽ được liên kết" not in chat.said
    assert "chưa hiểu" in chat.said  # the usual hint, then the menu again
    with session_for(engine) as session:
        assert len(session.exec(select(ChatLink)).all()) == 1


def test_onboarding_links_the_chat_and_shows_the_menu(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    replies = chat.command(f"/start {world['codes']['contact']}")
    assert "Công ty TNHH Hoà Bình (mã số thuế 0100109106)" in chat.said
    assert [c.label for c in replies[-1].choices] == ["Đồng ý, liên kết", "Không, huỷ"]
    chat.press("Đồng ý")
    assert "Đã liên kết" in chat.said and "Nguyễn Thị Hoà" in chat.said
    assert "Nghị định 13/2023/NĐ-CP" in chat.said  # what is kept, why, and whom to ask
    menu = chat.last.replies[-1]
    labels = [c.label for c in menu.choices]
    assert labels[0] == "Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026"
    assert "Báo cáo tổng kết năm — hạn thứ Sáu, 04/12/2026" in labels
    assert "còn 43 ngày" in menu.text
    assert chat.last.menu_role == Role.CONTACT
    with session_for(engine) as session:
        contact = links.contact_for_chat(session=session, channel="fake", chat_id="100")
        assert contact is not None and contact.enterprise_id == world["enterprise_id"]
        assert contact.full_name == "Nguyễn Thị Hoà"
        actions = session.exec(select(AuditEvent.action)).all()
        assert "contact.link" in actions


def test_no_leaves_the_chat_unlinked(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command(f"/start {world['codes']['contact']}")
    chat.press("Không")
    assert "chưa được liên kết" in chat.said
    with session_for(engine) as session:
        assert session.exec(select(ChatLink)).first() is None


def test_a_double_click_on_confirm_links_once(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command(f"/start {world['codes']['contact']}")
    token = chat.token("Đồng ý")
    chat.press("Đồng ý")
    chat._send(kind="choice", choice=token)
    assert "nút của một tin nhắn trước" in chat.said
    with session_for(engine) as session:
        assert len(session.exec(select(Contact)).all()) == 1


def test_codes_are_single_use_and_expire(core, world, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    _link(FakeChat(core, "1"), world["codes"]["contact"])
    other = FakeChat(core, "2")
    other.command(f"/start {world['codes']['contact']}")
    assert "đã được sử dụng" in other.said
    clock.now = NOW + timedelta(days=31)
    other.command(f"/start {world['codes']['board']}")
    assert "đã hết hạn lúc 08:30 thứ Tư, 01/04/2026" in other.said


def test_a_code_used_by_another_chat_between_ask_and_confirm(core, world) -> None:  # type: ignore[no-untyped-def]
    first, second = FakeChat(core, "1"), FakeChat(core, "2")
    first.command(f"/start {world['codes']['contact']}")
    second.command(f"/start {world['codes']['contact']}")
    first.press("Đồng ý")
    second.press("Đồng ý")
    assert "không còn dùng được" in second.said


def test_wrong_codes_are_throttled(core, world, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    for attempt in range(5):
        chat.command(f"/start WRONG{attempt}")
        assert "không hợp lệ" in chat.said
    chat.command(f"/start {world['codes']['contact']}")
    assert "Vui lòng đợi 15 phút" in chat.said
    chat.command("/start ../../etc/passwd<script>")
    assert "đợi" in chat.said
    clock.now = NOW + timedelta(minutes=16)
    chat.command(f"/start {world['codes']['contact']}")
    assert "Đồng ý" in chat.last.replies[-1].choices[0].label


def test_role_invites_link_board_and_admin(core, world) -> None:  # type: ignore[no-untyped-def]
    board = FakeChat(core, "b", user_name="Cán bộ Ban")
    board.command(f"/start {world['codes']['board']}")
    assert "với vai trò cán bộ Ban Quản lý" in board.said
    board.press("Đồng ý")
    assert board.last.menu_role == Role.BOARD
    labels = [c.label for c in board.last.replies[-1].choices]
    assert "Xuất danh sách doanh nghiệp" in labels and "Nhập danh sách doanh nghiệp" not in labels
    admin = FakeChat(core, "a")
    _link(admin, world["codes"]["admin"])
    labels = [c.label for c in admin.last.replies[-1].choices]
    assert "Nhập danh sách doanh nghiệp" in labels


def test_restart_resumes_at_the_same_step(
    engine: Engine, tmp_path: Path, world, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    before = FakeChat(make_core(engine, tmp_path, clock))
    before.command(f"/start {world['codes']['contact']}")
    token = before.token("Đồng ý")
    after = FakeChat(make_core(engine, tmp_path, clock))  # a new process: nothing in memory
    after._send(kind="choice", choice=token)
    assert "Đã liên kết" in after.said


def test_numbers_choose_on_text_only_channels(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command(f"/start {world['codes']['contact']}")
    chat.text("1")
    assert "Đã liên kết" in chat.said
    chat.text("9")
    assert "gõ số thứ tự hay tên của mục đó" in chat.said


def test_cancel_back_help_and_unknown_commands(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command(f"/start {world['codes']['contact']}")
    chat.command("/back")
    assert "chưa được liên kết" in chat.said
    chat.command(f"/start {world['codes']['contact']}")
    chat.command("/cancel")
    assert "Đã dừng" in chat.said
    chat.command("/cancel")
    assert "Không có thao tác nào" in chat.said
    chat.command("/frobnicate now")
    assert "Không có lệnh /frobnicate" in chat.said
    chat.command("/help")
    assert "/menu" in chat.said and "/export" not in chat.said
    _link(chat, world["codes"]["contact"])
    chat.command("/back")
    assert "Không có bước trước" in chat.said


def test_unexpected_input_is_answered_and_the_question_repeated(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    chat.command(f"/start {world['codes']['contact']}")
    for send, hint in (
        (lambda: chat.other(), "chỉ đọc được tin nhắn chữ"),
        (lambda: chat.text("x" * 4096), "Hệ thống chưa hiểu"),
        (lambda: chat.send_file(b"hi", "a.txt"), "chưa cần tệp nên tệp chưa được đọc"),
    ):
        send()
        # one message: what went wrong, then the question again with its buttons
        assert len(chat.last.replies) == 1, "the bot is never silent, and says it once"
        (reply,) = chat.last.replies
        first, _sep, rest = reply.text.partition("\n\n")
        assert hint in first and "sẽ được liên kết" in rest
        assert "Đồng ý" in reply.choices[0].label  # asked again


def test_language_follows_the_user_and_lang_switches(core, world) -> None:  # type: ignore[no-untyped-def]
    english = FakeChat(core, "en", language_code="en-US")
    english.command("/start")
    assert "not linked" in english.said
    chat = FakeChat(core)
    _link(chat, world["codes"]["contact"])
    chat.command("/lang en")
    assert "Language: English." in chat.said
    assert "Registration of emulation titles — due Tuesday, 14/04/2026" in [
        c.label for c in chat.last.replies[-1].choices
    ]
    chat.command("/lang")
    chat.press("Tiếng Việt")
    assert "Ngôn ngữ: tiếng Việt." in chat.said


def test_repeated_deliveries_are_answered_once_and_no_new_one_is_dropped(core, world) -> None:  # type: ignore[no-untyped-def]
    chat = FakeChat(core)
    assert chat.command("/start", key="1001")
    assert chat.command("/start", key="1001") == []  # delivered again after a crash
    assert chat.command("/start", key="1000")  # out of order (another webhook connection)
    assert chat.command("/start", key="1000") == []
    assert chat.command("/start", key="850000000")
    assert chat.command("/start", key="12345")  # Telegram's new ids after a quiet week
    assert chat.command("/start", key="6d0f3a9b2c")  # a channel whose ids are not numbers
    for number in range(70):  # only the last 64 are remembered: the list stays bounded
        chat.command("/help", key=f"k{number}")
    assert chat.command("/help", key="k69") == [] and chat.command("/help", key="1001")


def _with_flow(core: Core, extra: Flow) -> Core:
    """The same core with one more flow, as the composition root would build it."""
    return Core(engine=core.engine, settings=core.settings, flows=[*FLOWS, extra], clock=core.clock)


def test_a_failing_step_apologises_and_saves_nothing(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    def explode(ctx: Ctx) -> None:
        registry.add_zone(session=ctx.session, name="KCN Nửa Chừng")
        raise RuntimeError("boom")

    boom = Flow("test", steps=(Step("test.boom", prompt=explode, handle=explode),))
    chat = FakeChat(_with_flow(core, boom))
    chat.command("/start")
    with session_for(engine) as session:
        conv = session.exec(select(Conversation)).one()
        conv.step = "test.boom"
        session.commit()
    chat.text("anything")
    assert "Dữ liệu đã lưu trước đó không bị mất" in chat.said
    with session_for(engine) as session:
        assert registry.find_zone(session=session, name="KCN Nửa Chừng") is None


def test_a_failing_first_update_rolls_back_orm_and_core_writes(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from storage import audit, invitations

    with session_for(engine) as session:
        before = len(audit.list_events(session=session))
        invitation_id = session.exec(select(Invitation.id).where(Invitation.role == Role.CONTACT))
        invitation_id = invitation_id.first()

    def explode(ctx: Ctx) -> None:
        registry.add_zone(session=ctx.session, name="KCN Nửa Chừng")  # ORM, flushed
        audit.record(db=ctx.conn, actor="t", action="boom", now=ctx.now)  # Core
        assert invitations.redeem(
            conn=ctx.conn, invitation_id=invitation_id, name="N", channel="fake",
            chat_id=ctx.incoming.chat_id, now=ctx.now,
        )  # fmt: skip
        raise RuntimeError("boom")

    chat = FakeChat(_with_flow(core, Flow("test", commands={"boom": explode})), "first")
    chat.command("/boom")
    assert "Dữ liệu đã lưu trước đó không bị mất" in chat.said
    with session_for(engine) as session:
        assert registry.find_zone(session=session, name="KCN Nửa Chừng") is None
        assert len(audit.list_events(session=session)) == before
        assert session.get(Invitation, invitation_id).used_at is None  # type: ignore[union-attr]
        assert links.contact_for_chat(session=session, channel="fake", chat_id="first") is None
        assert not session.exec(select(Conversation).where(Conversation.chat_id == "first")).all()


def test_registry_export_and_import_in_chat(core, world, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    stranger = FakeChat(core, "s")
    stranger.command("/export")
    assert "chỉ dành cho cán bộ Ban Quản lý" in stranger.said
    assert not stranger.last.replies[0].file
    contact = FakeChat(core, "c")
    _link(contact, world["codes"]["contact"])
    contact.command("/import")
    assert "chỉ dành cho quản trị viên" in contact.said
    admin = FakeChat(core, "a")
    _link(admin, world["codes"]["admin"])
    admin.command("/export")
    sent = admin.sent_file
    assert sent is not None and sent.name.endswith(".xlsx")
    with session_for(engine) as session:
        assert "export.registry" in session.exec(select(AuditEvent.action)).all()
    sheet = openpyxl.load_workbook(sent.path).active
    assert sheet is not None and sheet.cell(row=4, column=3).value == "Công ty TNHH Hoà Bình"
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref.startswith("A3:")  # as opened
    admin.command("/import")
    admin.text("đây là danh sách")
    assert "Anh/Chị vui lòng chọn" in admin.said or "gửi danh sách doanh nghiệp" in admin.said
    admin.send_file(b"x" * 10, "big.xlsx", size=30 * 1024 * 1024)
    assert "vượt giới hạn 20 MB" in admin.said
    admin.send_file(b"%PDF-1.4\x00\x01", "ds.xlsx")
    assert "không phải bảng tính" in admin.said
    rows = registry_rows(3, zones=("KCN Quế Võ",))
    rows.append([4, "Sai mã", "0100109107", "KCN Quế Võ"])
    write_xlsx(Path(admin.core.settings.data_dir) / "upload.xlsx", rows)
    content = (Path(admin.core.settings.data_dir) / "upload.xlsx").read_bytes()
    admin.send_file(content, "../../../etc/passwd")
    assert "Tệp sẽ tạo mới 3" in admin.said and "từ chối 1" in admin.said  # nothing saved yet
    with session_for(engine) as session:
        assert len(session.exec(select(Enterprise)).all()) == 1  # the preview saved nothing
    admin.press("Đồng ý nhập")
    assert "3 tạo mới" in admin.said and "1 bị từ chối" in admin.said
    assert "Dòng 5 — bị từ chối: Sai mã" in admin.said
    incoming = Path(admin.core.settings.data_dir) / "incoming"
    assert list(incoming.iterdir()) == []  # downloads are removed after the import
    with session_for(engine) as session:
        assert len(session.exec(select(Enterprise)).all()) == 4


def test_a_declined_registry_file_changes_and_keeps_nothing(  # type: ignore[no-untyped-def]
    core, world, engine: Engine, tmp_path: Path
) -> None:
    admin = FakeChat(core, "a")
    _link(admin, world["codes"]["admin"])
    admin.command("/import")
    path = tmp_path / "upload.xlsx"
    write_xlsx(path, registry_rows(2, zones=("KCN Quế Võ",)))
    admin.send_file(path.read_bytes(), "ds.xlsx")
    assert "Tệp sẽ tạo mới 2" in admin.said
    admin.text("có lẽ")  # neither button: asked again
    assert "chưa hiểu" in admin.said
    admin.press("Không, không thay đổi gì")
    assert admin.said.startswith("Chưa nhập gì.")
    assert list((Path(admin.core.settings.data_dir) / "uploads").iterdir()) == []
    with session_for(engine) as session:
        assert len(session.exec(select(Enterprise)).all()) == 1


def test_consecutive_texts_travel_as_one_message(tmp_path: Path) -> None:
    from bot.core.types import Incoming, Kind, OutFile
    from storage.conversations import ChatState

    def fresh() -> Ctx:
        state = ChatState(id=1, channel="fake", chat_id="1", updated_at=NOW)
        incoming = Incoming(channel="fake", chat_id="1", kind=Kind.TEXT, text="?")
        return Ctx(None, state, None, incoming, NOW, None, None, Router(FLOWS))  # type: ignore[arg-type]

    ctx = fresh()
    ctx.say("Đã lưu.")
    ctx.say("Danh mục chính", [("help", "Trợ giúp")])
    (reply,) = ctx.result.replies
    assert reply.text == "Đã lưu.\n\nDanh mục chính" and reply.choices[0].label == "Trợ giúp"
    ctx.say("Sau nút bấm")  # a message with buttons ends there
    assert [r.text for r in ctx.result.replies][1:] == ["Sau nút bấm"]
    ctx.say("Tệp", file=OutFile(tmp_path / "a.xlsx", "a.xlsx"))  # files go on their own
    assert len(ctx.result.replies) == 3 and ctx.result.replies[2].text == "Tệp"
    ctx = fresh()
    ctx.say("x" * 4000)
    ctx.say("y" * 95)  # 4,097 characters together: over Telegram's limit
    assert [len(r.text) for r in ctx.result.replies] == [4000, 95]


def test_typed_words_pick_a_choice_only_when_they_name_one() -> None:
    from bot.core.routing import _typed_choice

    keys, labels = ["keep", "skip"], ["Giữ nguyên: 1.500", "Bỏ qua"]
    assert _typed_choice("  GIỮ NGUYÊN ", keys, labels) == "keep"
    assert _typed_choice("giu nguyen: 1.500", keys, labels) == "keep"
    assert _typed_choice("bo qua!", keys, labels) == "skip"
    assert _typed_choice("1", keys, labels) == ""  # a value
    assert _typed_choice("giữ", keys, labels) == ""  # not the whole words
    assert _typed_choice("Có", ["a", "b"], ["Có", "Cổ"]) == ""  # the same once folded: neither
    assert _typed_choice("Bỏ qua", keys, "not a list") == ""  # an old conversation's data


def test_the_router_refuses_a_name_two_flows_claim() -> None:
    def noop(ctx: Ctx) -> None:
        return None

    with pytest.raises(ValueError, match="command 'help' is claimed by flows menu and extra"):
        Router([*FLOWS, Flow("extra", commands={"help": noop})])
    twice = (Step("x-one", prompt=noop, handle=noop), Step("x-one", prompt=noop, handle=noop))
    with pytest.raises(ValueError, match="step 'x-one' is claimed by flows extra and extra"):
        Router([*FLOWS, Flow("extra", steps=twice)])
    with pytest.raises(ValueError, match="main menu"):
        Router([flow for flow in FLOWS if flow.name != "menu"])
    router = Router(FLOWS)
    assert router.step("a.step.since.removed") is router.steps[""]
    assert {"start", "menu", "review", "broadcast", "invite"} <= set(router.commands)
