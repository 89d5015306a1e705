"""Behaviour the rest of the suite never checked, each test failing under a known small bug."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from bot.core.types import Kind
from bot.texts.outbox import Renderer
from storage import invitations, links, registration_rules, registry
from storage.engine import make_engine, session_for
from storage.models import (
    AuditEvent,
    Conversation,
    Delivery,
    Enterprise,
    Milestone,
    MilestoneKind,
    Registration,
    Role,
)
from storage.registrations import NomineeInput
from tests import test_cli
from tests.conftest import NOW
from tests.factories import Clock, registry_rows, seed_world, write_xlsx
from tests.fake_channel import FakeChat, make_core
from tests.test_flows import _link
from tests.test_registration_flow import REG, _person
from tests.test_registrations import P, _codes, _rows
from tests.test_report_flow import PDF, YEAR_END, _answer_all

OTHER_TAX = "0101243150"
ACCESS_CHANGED = "Quyền của Anh/Chị đã thay đổi nên bước đang làm đã được đóng lại."


class World:
    """The seeded campaign; chats by name: c1 (Hoà Bình's contact), b1 (board), a1 (admin)."""

    def __init__(self, engine: Engine, tmp_path: Path, clock: Clock, **settings: object) -> None:
        self.engine = engine
        self.codes, self.enterprise_id = seed_world(engine, NOW)
        self.core = make_core(engine, tmp_path, clock, **settings)
        self.chats: dict[str, FakeChat] = {}
        for chat_id, role in (("c1", "contact"), ("b1", "board"), ("a1", "admin")):
            self.chats[chat_id] = self.link(chat_id, self.codes[role])

    def link(self, chat_id: str, code: str, name: str = "Nguyễn Thị Hoà") -> FakeChat:
        chat = FakeChat(self.core, chat_id, user_name=name)
        _link(chat, code)
        return chat

    def contact_of(self, tax_code: str, chat_id: str, name: str) -> FakeChat:
        """Links one more contact chat of an enterprise (added first if new)."""
        with session_for(self.engine) as session:
            enterprise = registry.get_enterprise(session=session, tax_code=tax_code)
            if enterprise is None:
                zone = registry.find_zone(session=session, name="KCN Quế Võ")
                enterprise = registry.add_enterprise(
                    session=session, tax_code=tax_code, name="Công ty Sao Mai", now=NOW, zone=zone
                )
            code = invitations.create_invitation(
                session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
            ).code
            session.commit()
        return self.link(chat_id, code, name)


def _register(contact: FakeChat) -> None:
    """A registration of one CSTĐCS and one LĐTT, submitted in chat."""
    contact.press(REG)
    contact.press("Bước 2/3")
    _person(contact, "Trần Văn Đức", "Chiến sĩ thi đua cơ sở", position="Kỹ sư",
            award="Giấy khen", initiative="Cải tiến dây chuyền sơn")  # fmt: skip
    _person(contact, "Lê Thị An", "Lao động tiên tiến")
    contact.press("Tiếp tục: Bước 3/3")
    contact.press("Xác nhận và nộp")
    assert "DK-2026-0001" in contact.said


def _milestone_id(engine: Engine, kind: MilestoneKind) -> int:
    with session_for(engine) as session:
        found = session.exec(select(Milestone.id).where(Milestone.kind == kind)).one()
        assert found is not None
        return found


def _put(engine: Engine, chat_id: str, step: str, data: dict[str, object]) -> int:
    """Moves a chat's conversation to ``step`` as the flow would; returns the new version."""
    with session_for(engine) as session:
        conv = session.exec(select(Conversation).where(Conversation.chat_id == chat_id)).one()
        conv.step, conv.data, conv.version = step, data, conv.version + 1
        session.add(conv)
        session.commit()
        return conv.version


def _step(engine: Engine, chat_id: str) -> str:
    with session_for(engine) as session:
        query = select(Conversation.step).where(Conversation.chat_id == chat_id)
        return session.exec(query).one()


def _effects(engine: Engine) -> tuple[object, ...]:
    """Everything a staff step could change: outbox, audit, reviews, enterprises."""
    with session_for(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Delivery)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            [(r.review_state, r.review_comment) for r in session.exec(select(Registration))],
            session.exec(select(func.count()).select_from(Enterprise)).one(),
        )


def _registry_file(tmp_path: Path) -> bytes:
    return write_xlsx(tmp_path / "ds.xlsx", registry_rows(3, zones=("KCN Quế Võ",))).read_bytes()


STATES = ["received", "has_issues", "approved", "returned"]
# step, its data, what the contact sends: ("choice", key), ("text", words) or ("file", "")
StaffStep = tuple[str, dict[str, object], tuple[str, str]]
STAFF_STEPS: dict[str, Callable[[dict[str, int]], StaffStep]] = {
    "owing-list": lambda i: (
        "board.owing", {"_choices": [f"m:{i['report']}"]}, ("choice", f"m:{i['report']}"),
    ),
    "owing-remind": lambda i: (
        "board.owing", {"milestone": i["report"], "_choices": ["remind"]}, ("choice", "remind"),
    ),
    "lists": lambda i: (
        "board.lists", {"_choices": ["registrations", "figures"]}, ("choice", "registrations"),
    ),
    "review-kind": lambda i: (
        "rv.kind", {"_choices": ["registration"]}, ("choice", "registration"),
    ),
    "review-pick": lambda i: (
        "rv.pick", {"kind": "registration", "ids": [i["registration"]]}, ("text", "1"),
    ),
    "review-approve": lambda i: (
        "rv.state", {"kind": "registration", "submission": i["registration"], "_choices": STATES},
        ("choice", "approved"),
    ),
    "review-has-issues": lambda i: (
        "rv.state", {"kind": "registration", "submission": i["registration"], "_choices": STATES},
        ("choice", "has_issues"),
    ),
    "review-approve-by-number": lambda i: (
        "rv.state", {"kind": "registration", "submission": i["registration"], "_choices": STATES,
                     "_numbered": STATES}, ("text", "3"),
    ),
    "review-comment": lambda i: (
        "rv.comment", {"kind": "registration", "submission": i["registration"],
                       "state": "returned"}, ("text", "Thiếu chức vụ."),
    ),
    "broadcast-text": lambda i: ("bc.text", {}, ("text", "Kính gửi các doanh nghiệp")),
    "broadcast-audience": lambda i: (
        "bc.audience", {"text": "Xin chào", "_choices": ["all"]}, ("choice", "all"),
    ),
    "broadcast-confirm": lambda i: (
        "bc.confirm", {"text": "Xin chào", "audience": "all", "count": 1,
                       "_choices": ["send", "no"]}, ("choice", "send"),
    ),
    "registry-import": lambda i: ("registry.import", {}, ("file", "")),
}  # fmt: skip


@pytest.mark.parametrize("case", list(STAFF_STEPS))
def test_a_contact_left_in_a_staff_step_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path, case: str
) -> None:
    world = World(engine, tmp_path, Clock(NOW))
    contact = world.chats["c1"]
    _register(contact)
    with session_for(engine) as session:
        registration = session.exec(select(Registration.id)).one()
    ids = {"registration": registration or 0, "report": _milestone_id(engine, MilestoneKind.REPORT)}
    step, data, (kind, value) = STAFF_STEPS[case](ids)
    version = _put(engine, "c1", step, data)
    before = _effects(engine)
    if kind == "choice":
        contact._send(kind=Kind.CHOICE, choice=f"{version}:{value}")
    elif kind == "text":
        contact.text(value)
    else:
        contact.send_file(_registry_file(tmp_path), "ds.xlsx")
    assert ACCESS_CHANGED in contact.said  # the step closes before it reads anything
    assert _effects(engine) == before  # nothing reviewed, queued, audited or imported
    assert not any(reply.file for reply in contact.last.replies)  # no list sent
    assert contact.files.fetched == []  # the file was never downloaded
    assert _step(engine, "c1") == ""  # back at the menu


def test_report_figures_and_registrations_are_exported_with_their_values(
    engine: Engine, tmp_path: Path
) -> None:
    world = World(engine, tmp_path, Clock(NOW))
    contact, board = world.chats["c1"], world.chats["b1"]
    world.contact_of(OTHER_TAX, "o1", "Phạm Văn Bình")  # owes both: in neither list
    _register(contact)
    contact.press(YEAR_END)
    contact.press("Nhập số liệu")
    _answer_all(contact)
    contact.send_file(PDF, "bao-cao.pdf")
    contact.press("Chuyển sang xem lại")
    contact.press("Xác nhận và nộp")
    assert "BC-2026-0001" in contact.said
    board.command("/lists")
    board.press("Số liệu báo cáo tổng kết")
    sent = board.sent_file
    assert sent is not None and "1 doanh nghiệp" in board.said
    rows = list(openpyxl.load_workbook(sent.path).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 7  # title, board, scope note, date, header, one enterprise, totals
    figures = dict(zip(rows[4], rows[5], strict=True))
    assert figures == {
        "STT": 1, "Doanh nghiệp": "Công ty TNHH Hoà Bình", "Mã số thuế": "0100109106",
        "Khu công nghiệp": "KCN Quế Võ", "Số tiếp nhận": "BC-2026-0001", "Phiên bản": 1,
        "Trạng thái xem xét": "Đã nhận",
        # as typed in _answer_all: "1.500", "700", "1,25 tỷ", "-500 triệu", "12 triệu"…
        "Tổng số lao động cuối kỳ (người)": 1500, "Trong đó lao động nữ (người)": 700,
        "Doanh thu (đồng)": 1_250_000_000, "Lợi nhuận trước thuế (đồng)": -500_000_000,
        "Nộp ngân sách nhà nước (đồng)": 12_000_000,
        "Thu nhập bình quân (đồng/người/tháng)": 8_500_000,
        "Đầu tư đổi mới thiết bị, công nghệ (đồng)": 2_000_000_000,
        "Số sáng kiến được áp dụng": 3, "Giá trị làm lợi từ sáng kiến (đồng)": 150_000_000,
        "Số vụ tai nạn lao động": 0, "Đóng bảo hiểm xã hội": "Đóng đầy đủ, đúng hạn",
        "Số Lao động tiên tiến được công nhận": 120,
        "Số Chiến sĩ thi đua cơ sở được công nhận": 8,
        "Số Tập thể lao động tiên tiến được công nhận": 2, "Số Giấy khen đã tặng": 15,
        "Đề xuất khen thưởng cấp trên": None,
    }  # fmt: skip
    board.press("Danh sách đăng ký danh hiệu")
    sent = board.sent_file
    assert sent is not None
    book = openpyxl.load_workbook(sent.path)
    people = [row[1:10] for row in book["Cá nhân"].iter_rows(min_row=7, max_row=8,
                                                              values_only=True)]  # fmt: skip
    assert people == [  # Vietnamese name order: Lê before Trần
        ("Công ty TNHH Hoà Bình", "0100109106", "KCN Quế Võ", "DK-2026-0001", "Lê Thị An", None,
         "Lao động tiên tiến", None, None),
        ("Công ty TNHH Hoà Bình", "0100109106", "KCN Quế Võ", "DK-2026-0001", "Trần Văn Đức",
         "Kỹ sư", "Chiến sĩ thi đua cơ sở", "Giấy khen", "Cải tiến dây chuyền sơn"),
    ]  # fmt: skip
    totals = {r[0]: r[1:] for r in book["Tổng hợp"].iter_rows(values_only=True) if r[0]}
    assert totals["Lao động tiên tiến"][:4] == (1, 0.3, 710_000, 710_000)  # rounded up
    assert totals["Chiến sĩ thi đua cơ sở"][:4] == (1, 1.0, 2_340_000, 2_340_000)
    assert totals["Giấy khen — cá nhân"][0] == 1
    assert totals["Tổng cộng"][3] == 710_000 + 2_340_000 + 710_000


def _cstdcs_share(cstdcs: int, ldtt: int) -> list[registration_rules.Warning]:
    """The 2020 regime's warnings for a list of CSTĐCS (with initiatives) and LĐTT."""
    rows = [NomineeInput(P, f"Chiến {i}", "CSTĐCS", initiative="Sáng kiến") for i in range(cstdcs)]
    rows += [NomineeInput(P, f"Người {i}", "LĐTT") for i in range(ldtt)]
    return registration_rules.check("nd91-2017", _rows("nd91-2017", *rows))


@pytest.mark.parametrize(("cstdcs", "ldtt"), [(3, 17), (15, 85)])
def test_cstdcs_at_exactly_15_percent_of_holders_is_no_warning(cstdcs: int, ldtt: int) -> None:
    assert _codes(_cstdcs_share(cstdcs, ldtt)) == []  # 3 of 20, 15 of 100: exactly 15 %


@pytest.mark.parametrize(("cstdcs", "ldtt"), [(3, 16), (16, 84)])
def test_cstdcs_just_over_15_percent_of_holders_warns(cstdcs: int, ldtt: int) -> None:
    warnings = _cstdcs_share(cstdcs, ldtt)  # 3 of 19 (15.8 %), 16 of 100 (16 %)
    assert _codes(warnings) == ["cstdcs_ratio"]
    assert warnings[0].params == {"n": cstdcs, "holders": cstdcs + ldtt, "percent": 15}


@pytest.mark.parametrize(
    ("button", "comment", "state", "words"),
    [("đã duyệt", None, "approved", "đã duyệt"), ("cần bổ sung", "Thiếu chức vụ của An.",
      "has_issues", "cần bổ sung")],
    ids=["approved", "has-issues"],
)  # fmt: skip
def test_a_review_decision_is_stored_audited_and_told_to_the_enterprise(
    engine: Engine, tmp_path: Path, button: str, comment: str | None, state: str, words: str
) -> None:
    world = World(engine, tmp_path, Clock(NOW))
    contact, board = world.chats["c1"], world.chats["b1"]
    world.contact_of("0100109106", "c2", "Trần Văn Bình")  # a second chat of the enterprise
    world.contact_of(OTHER_TAX, "o1", "Phạm Văn Bình")  # another enterprise: not told
    _register(contact)
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    board.press(button)
    if comment:
        assert "Anh/Chị gõ ghi chú gửi doanh nghiệp" in board.said
        board.text(comment)
    assert (
        f"DK-2026-0001 nay ở trạng thái: {words}. Hệ thống sẽ báo cho 2 tài khoản chat"
        in board.said
    )
    with session_for(engine) as session:
        board_id = links.contact_for_chat(session=session, channel="fake", chat_id="b1").id  # type: ignore[union-attr]
        row = session.exec(select(Registration)).one()
        assert (row.review_state, row.review_comment) == (state, comment)
        assert row.reviewed_by == board_id and row.reviewed_at == NOW
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "review")).one()
        assert (event.actor, event.target) == (f"contact:{board_id}", "DK-2026-0001")
        assert event.details == {"state": state, "comment": comment}
        told = list(session.exec(select(Delivery).where(Delivery.kind == "review")))
        assert sorted(d.chat_id for d in told) == ["c1", "c2"]
        assert {d.payload["state"] for d in told} == {state}
        rendered = Renderer(world.core.settings, lambda: NOW)(session, told)
    for message in rendered:
        assert message is not None
        lines = message.text.splitlines()
        assert lines[0] == (
            f"Ban Quản lý đã xem đăng ký danh hiệu thi đua DK-2026-0001 của doanh nghiệp: {words}."
        )
        assert lines[1:] == ([f"Ghi chú: {comment}"] if comment else [])  # not "open again"
        assert message.choices == ()  # only a returned submission gets the button to reopen


def test_a_broadcast_to_all_reaches_every_reachable_contact_and_is_audited(
    engine: Engine, tmp_path: Path
) -> None:
    world = World(engine, tmp_path, Clock(NOW))
    admin = world.chats["a1"]
    _register(world.chats["c1"])  # Hoà Bình owes nothing now: "all" must still include it
    world.contact_of(OTHER_TAX, "o1", "Phạm Văn Bình")
    world.contact_of(OTHER_TAX, "o2", "Đỗ Thị Cúc")
    with session_for(engine) as session:
        assert links.mark_unreachable(session=session, channel="fake", chat_id="o2")
        session.commit()
    admin.command("/broadcast")
    admin.text("Kính gửi các doanh nghiệp: họp giao ban ngày 10/03.")
    admin.press("Tất cả người liên hệ của doanh nghiệp")
    assert "Gửi thông báo này tới 2 tài khoản chat?" in admin.said
    admin.press("Gửi")
    assert "Đã xếp 2 tin nhắn" in admin.said
    with session_for(engine) as session:
        admin_id = links.contact_for_chat(session=session, channel="fake", chat_id="a1").id  # type: ignore[union-attr]
        queued = list(session.exec(select(Delivery).where(Delivery.kind == "broadcast")))
        assert sorted(d.chat_id for d in queued) == ["c1", "o1"]  # not the blocked, not staff
        assert {d.payload["text"] for d in queued} == {
            "Kính gửi các doanh nghiệp: họp giao ban ngày 10/03."
        }
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "broadcast")).one()
        assert (event.actor, event.target) == (f"contact:{admin_id}", "all")
        assert event.details["queued"] == 2


def test_a_reminder_is_rendered_in_the_chat_s_language(engine: Engine, tmp_path: Path) -> None:
    world = World(engine, tmp_path, Clock(NOW))
    english = world.chats["c1"]
    english.command("/lang en")
    world.contact_of("0100109106", "c2", "Trần Văn Bình")  # no language chosen: the default
    board = world.chats["b1"]
    board.command("/owing")
    board.press("Đăng ký danh hiệu thi đua")
    board.press("Nhắc tất cả ngay")
    assert "Đã xếp 2 tin nhắc nhở" in board.said
    with session_for(engine) as session:
        rows = list(session.exec(select(Delivery).where(Delivery.kind == "reminder")))
        rendered = Renderer(world.core.settings, lambda: NOW)(session, rows)
    by_chat = {row.chat_id: message for row, message in zip(rows, rendered, strict=True)}
    en, vi = by_chat["c1"], by_chat["c2"]
    assert en is not None and vi is not None
    assert en.text.startswith(
        "Dear Nguyễn Thị Hoà, Công ty TNHH Hoà Bình has not yet sent the registration of"
        " emulation titles for 2026"
    )
    assert "Press the button below" in en.text and "Kính gửi" not in en.text
    assert en.choices == (("g:open:registration", "Open: Registration of emulation titles"),)
    assert vi.text.startswith(
        "Kính gửi Anh/Chị Trần Văn Bình: Công ty TNHH Hoà Bình chưa nộp đăng ký danh hiệu thi đua"
    )
    assert vi.choices == (("g:open:registration", "Mở: Đăng ký danh hiệu thi đua"),)


AFTER_ALL_CUTOFFS = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # 09:00 Thursday 10/12/2026
thidua = test_cli.thidua  # the CLI harness fixture: a clean directory and a fixed clock
NAMES = {"report": "Báo cáo tổng kết năm", "midyear": "Báo cáo sơ kết 6 tháng"}
TITLES = {"report": "Báo cáo tổng kết năm 2026", "midyear": "Báo cáo sơ kết 6 tháng đầu năm 2026"}


def _opens(chat: FakeChat, kind: str) -> bool:
    """Presses a reminder's "open" button; True when the report flow opened, else it said why."""
    chat._send(kind=Kind.CHOICE, choice=f"g:open:{kind}")
    if f"{TITLES[kind]} — " in chat.said:
        return True
    assert f"Hạn nộp {NAMES[kind].lower()} đã kết thúc lúc" in chat.said
    return False


def _extension_world(engine: Engine, tmp_path: Path) -> tuple[World, FakeChat]:
    """Linked while the invitations are valid; then every milestone's cut-off has passed."""
    clock = Clock(NOW)
    world = World(engine, tmp_path, clock)
    other = world.contact_of(OTHER_TAX, "o1", "Phạm Văn Bình")
    clock.now = AFTER_ALL_CUTOFFS
    assert not any(_opens(world.chats["c1"], kind) for kind in NAMES)
    return world, other


@pytest.mark.parametrize(
    ("word", "extended", "still_closed"),
    [("report", "report", "midyear"), ("baocao", "report", "midyear"),
     ("midyear", "midyear", "report"), ("soket", "midyear", "report")],
)  # fmt: skip
def test_an_admin_extends_one_enterprise_s_report_in_chat(
    engine: Engine, tmp_path: Path, word: str, extended: str, still_closed: str
) -> None:
    world, other = _extension_world(engine, tmp_path)
    contact, admin = world.chats["c1"], world.chats["a1"]
    admin.command(f"/campaign extend 0100109106 31/12/2026 {word}")
    assert (
        f"Công ty TNHH Hoà Bình được nộp {NAMES[extended].lower()} đến 23:59 thứ Năm, 31/12/2026."
        in admin.said
    )
    assert _opens(contact, extended)
    assert "hạn cuối 23:59 thứ Năm, 31/12/2026 (còn 21 ngày)" in contact.said
    contact.press("Nhập số liệu")
    assert "Bước 1/" in contact.said  # the flow really is open
    assert not _opens(contact, still_closed)
    assert not _opens(other, extended)
    with session_for(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "campaign.extend")).one()
        assert event.target == "0100109106" and event.details["milestone"] == extended


@pytest.mark.parametrize(
    ("extended", "still_closed"), [("report", "midyear"), ("midyear", "report")]
)
def test_the_cli_extends_one_enterprise_s_report(
    thidua: Callable[..., tuple[int, str, str]], tmp_path: Path, extended: str, still_closed: str
) -> None:
    assert thidua("db", "upgrade")[0] == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'thidua.sqlite3'}")  # the CLI's own
    world, other = _extension_world(engine, tmp_path)
    code, out, _err = thidua(
        "campaign", "extend", "--enterprise", "0100109106", "--until", "31/12/2026",
        "--milestone", extended,
    )  # fmt: skip
    assert code == 0 and f"được nộp {NAMES[extended].lower()} đến 23:59 thứ Năm" in out
    assert _opens(world.chats["c1"], extended)
    assert not _opens(world.chats["c1"], still_closed)
    assert not _opens(other, extended)
    engine.dispose()


def test_the_import_size_limit_follows_the_setting(engine: Engine, tmp_path: Path) -> None:
    world = World(engine, tmp_path, Clock(NOW), import_max_mb=2)
    admin = world.chats["a1"]
    admin.command("/import")
    assert "tối đa 2 MB" in admin.said
    admin.send_file(b"x" * 10, "ds.xlsx", size=3 * 1024 * 1024)
    assert "Tệp nặng 3 MB, vượt giới hạn 2 MB" in admin.said
    assert admin.files.fetched == []  # refused before downloading
    admin.send_file(_registry_file(tmp_path), "ds.xlsx", size=2 * 1024 * 1024)  # at the limit
    assert "Tệp sẽ tạo mới 3" in admin.said  # a preview first
    admin.press("Đồng ý nhập")
    assert "3 tạo mới" in admin.said
    admin.core = make_core(engine, tmp_path, Clock(NOW), import_max_mb=30)  # above the default 20
    admin.command("/import")
    admin.send_file(_registry_file(tmp_path), "ds.xlsx", size=25 * 1024 * 1024)
    admin.press("Đồng ý nhập")
    assert "3 không đổi" in admin.said
    with session_for(engine) as session:
        names = session.exec(select(Enterprise.name).order_by(col(Enterprise.id))).all()
        assert names[1:] == [f"Công ty TNHH Sản xuất số {n}" for n in (1, 2, 3)]


def test_the_menu_shown_with_a_refusal_answers_its_buttons(engine: Engine, tmp_path: Path) -> None:
    """The step is left before the menu is shown: its buttons are the current ones."""
    world = World(engine, tmp_path, Clock(NOW))
    contact = world.chats["c1"]
    _put(engine, "c1", "bc.text", {})
    contact.text("Kính gửi các doanh nghiệp")
    assert ACCESS_CHANGED in contact.said
    contact.press("Hướng dẫn")
    assert "Các lệnh:" in contact.said and "nút của một tin nhắn trước" not in contact.said
