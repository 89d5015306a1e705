"""Every command × every role: allowed or refused as designed, never silent, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import invitations, registry
from storage.engine import session_for
from storage.models import ChatLink, Contact, Delivery, Role
from tests.conftest import NOW
from tests.factories import seed_world
from tests.fake_channel import FakeChat, make_core

REFUSED = ("chỉ dành cho cán bộ Ban Quản lý", "chỉ dành cho quản trị viên")
EVERYONE = {"start", "menu", "help", "lang", "cancel", "back"}
BOARD_ONLY = {"progress", "owing", "lists", "export", "campaign", "review"}
ADMIN_ONLY = {"import", "broadcast", "invite"}
ROLES = ("stranger", "contact", "other_contact", "board", "admin")
ALLOWED = {
    "stranger": EVERYONE,
    "contact": EVERYONE,
    "other_contact": EVERYONE,
    "board": EVERYONE | BOARD_ONLY,
    "admin": EVERYONE | BOARD_ONLY | ADMIN_ONLY,
}


@pytest.fixture
def chats(engine: Engine, tmp_path: Path) -> dict[str, FakeChat]:
    codes, _ = seed_world(engine, NOW)
    with session_for(engine) as session:
        other = registry.add_enterprise(session=session, tax_code="0101243150", name="B", now=NOW)
        codes["other_contact"] = invitations.create_invitation(
            session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=other
        ).code
        session.commit()
    core = make_core(engine, tmp_path, lambda: NOW)
    found = {}
    for role in ROLES:
        chat = FakeChat(core, role)
        if role != "stranger":
            chat.command(f"/start {codes[role]}")
            chat.press("Đồng ý")
        found[role] = chat
    return found


@pytest.mark.parametrize("command", sorted(EVERYONE | BOARD_ONLY | ADMIN_ONLY))
def test_command_matrix(chats: dict[str, FakeChat], command: str) -> None:
    for role in ROLES:
        chat = chats[role]
        chat.command(f"/{command}")
        assert chat.last.replies, f"/{command} as {role} was not answered"
        refused = any(text in chat.said for text in REFUSED)
        assert refused == (command not in ALLOWED[role]), f"/{command} as {role}"
        chat.command("/cancel")


def test_a_contact_sees_only_its_own_enterprise(chats: dict[str, FakeChat]) -> None:
    chats["contact"].command("/menu")
    assert "Công ty TNHH Hoà Bình" in chats["contact"].said
    chats["other_contact"].command("/menu")
    assert "Công ty TNHH Hoà Bình" not in chats["other_contact"].said


def _set_role(engine: Engine, chat_id: str, role: Role | None) -> None:
    """The CLI's set-role (a role) or unlink (None), straight in the database."""
    with session_for(engine) as session:
        link = session.exec(select(ChatLink).where(ChatLink.chat_id == chat_id)).one()
        if role is None:
            session.delete(link)
        else:
            contact = session.get(Contact, link.contact_id)
            assert contact is not None
            contact.role = role
            session.add(contact)
        session.commit()


@pytest.mark.parametrize("change", ["demoted", "unlinked"])
def test_a_step_closes_as_soon_as_the_role_is_gone_reads_too(
    chats: dict[str, FakeChat], engine: Engine, change: str
) -> None:
    board = chats["board"]
    board.command("/review")
    assert "Xem xét loại hồ sơ nào?" in board.said
    stale = board.token("Đăng ký")
    _set_role(engine, "board", Role.CONTACT if change == "demoted" else None)
    board.command("/lang vi")  # asks the step's question again: a read
    assert "quyền của anh/chị đã thay đổi" in board.said.lower()
    assert "Xem xét loại hồ sơ nào?" not in board.said
    board._send(kind="choice", choice=stale)  # a button of the list shown before
    assert "Xem xét loại hồ sơ nào?" not in board.said and "DK-" not in board.said


def test_a_demoted_admin_cannot_send_the_broadcast_it_prepared(
    chats: dict[str, FakeChat], engine: Engine
) -> None:
    admin = chats["admin"]
    admin.command("/broadcast")
    admin.text("Họp giao ban thứ Hai")
    admin.press("Tất cả người liên hệ")
    assert "Gửi" in [c.label for c in admin.last.replies[-1].choices]
    _set_role(engine, "admin", Role.BOARD)
    admin.press("Gửi")
    assert "quyền của anh/chị đã thay đổi" in admin.said.lower()
    with session_for(engine) as session:
        assert session.exec(select(Delivery)).all() == []
