"""Every command × every role: allowed or refused as designed, never silent, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage import invitations, registry
from storage.engine import session_for
from storage.models import Role
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
