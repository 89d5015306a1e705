"""Builders of realistic, messy registry files for tests and benchmarks."""

from __future__ import annotations

import socket
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy.engine import Engine

from bot.demo import synthetic_tax_codes
from scheduler.dispatcher import Port, Send
from storage import campaigns, invitations, registry
from storage.engine import session_for
from storage.models import Role


def valid_tax_codes(count: int, prefix: str = "27") -> list[str]:
    """Distinct valid MSTs for test files."""
    return synthetic_tax_codes(count, prefix=prefix)


def write_xlsx(path: Path, rows: Iterable[Sequence[object]], *, title_rows: int = 0) -> Path:
    """A workbook as boards make them: an optional title block above the header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "DS doanh nghiệp"
    for index in range(title_rows):
        sheet.append(["BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP" if index == 0 else None])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def registry_rows(
    count: int, *, zones: Sequence[str] = ("KCN Quế Võ", "KCN Yên Phong")
) -> list[list[object]]:
    """Header plus ``count`` valid rows with contacts and phones."""
    header: list[object] = [
        "STT",
        "Tên doanh nghiệp",
        "Mã số thuế",
        "Khu công nghiệp",
        "Địa chỉ",
        "Người liên hệ",
        "Điện thoại",
        "Ghi chú",
    ]
    rows = [header]
    for index, code in enumerate(valid_tax_codes(count)):
        rows.append(
            [
                index + 1,
                f"Công ty TNHH Sản xuất số {index + 1}",
                code,
                zones[index % len(zones)],
                f"Lô {index + 1}, {zones[index % len(zones)]}",
                f"Nguyễn Văn {chr(65 + index % 26)}",
                f"09{(12000000 + index) % 100000000:08d}",
                None,
            ]
        )
    return rows


def nfd(text: str) -> str:
    """Text as a phone or a Mac sends it."""
    return unicodedata.normalize("NFD", text)


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encodes as Windows-1258 does: precomposed vowel plus a combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in _TONES)
            rest = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out += (rest + tones).encode("cp1258")
    return bytes(out)


def seed_world(engine: Engine, now: datetime) -> tuple[dict[str, str], int]:
    """The 2026 campaign, one enterprise in KCN Quế Võ, and an invitation code per role."""
    with session_for(engine) as session:
        campaigns.create_campaign(
            session=session, year=2026, board_name="Ban", now=now, tz=ZoneInfo("Asia/Ho_Chi_Minh")
        )
        zone = registry.add_zone(session=session, name="KCN Quế Võ")
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="Công ty TNHH Hoà Bình", now=now, zone=zone
        )
        codes = {
            role.value: invitations.create_invitation(
                session=session,
                role=role,
                created_by="test",
                now=now,
                enterprise=enterprise if role == Role.CONTACT else None,
            ).code
            for role in Role
        }
        session.commit()
        assert enterprise.id is not None
        return codes, enterprise.id


class Clock:
    """A clock a test moves by setting ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ports_for(send: Send, rate: float = 1000, per_chat: float = 0) -> dict[str, Port]:
    """The outbox's ports for every channel the tests link chats on, all through ``send``."""
    return {channel: Port(send, rate, per_chat) for channel in ("telegram", "fake", "terminal")}


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
