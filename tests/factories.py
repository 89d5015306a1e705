"""Builders of realistic, messy registry files for tests and benchmarks."""

from __future__ import annotations

import io
import socket
import struct
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.demo import synthetic_tax_codes
from scheduler.dispatcher import Port, Send
from storage import campaigns, invitations, registrations, registry
from storage.engine import session_for
from storage.models import Campaign, Enterprise, Role
from storage.registrations import NomineeInput


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


WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def pdf_bytes(padding: int = 0) -> bytes:
    """A real one-page PDF (pypdf's writer), ``padding`` bytes longer in a comment stream."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if padding:
        filler = DecodedStreamObject()
        filler.set_data(bytes(range(256)) * (padding // 256 + 1))
        writer._root_object[NameObject("/Filler")] = writer._add_object(filler)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes(*, content_type: str = WORD_MAIN) -> bytes:
    """A .docx as Word writes its skeleton: content types naming the main document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{content_type}"/>'
            "</Types>",
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def ole_bytes(stream: str = "WordDocument", head: bytes = b"\xec\xa5") -> bytes:
    """A compound (OLE) file holding one 4 KB stream: a Word 97–2003 .doc by default (its
    stream "WordDocument" opens with the FIB's magic), anything else (an .msi) otherwise."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end)
    header[76:512] = b"\xff" * 436
    struct.pack_into("<I", header, 76, 0)  # the first (and only) FAT sector is sector 0
    fat = [fat_sector, end, 3, 4, 5, 6, 7, 8, 9, end] + [free] * 118
    directory = _ole_entry("Root Entry", 5, end, 0, child=1) + _ole_entry(stream, 2, 2, 4096)
    directory += _ole_entry("", 0, 0, 0) * 2
    data = head + b"\0" * (4096 - len(head))
    return bytes(header) + struct.pack("<128I", *fat) + directory + data


def _ole_entry(name: str, kind: int, start: int, size: int, *, child: int = 0xFFFFFFFF) -> bytes:
    """One 128-byte directory entry of a compound file."""
    encoded = name.encode("utf-16-le") + b"\0\0" if name else b""
    entry = bytearray(128)
    entry[0 : len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
    struct.pack_into("<III", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
    struct.pack_into("<III", entry, 116, start, size, 0)
    return bytes(entry)


def submit_registration(
    session: Session, campaign: Campaign, enterprise: Enterprise, *rows: NomineeInput,
    now: datetime,
) -> None:  # fmt: skip
    """An enterprise's registration of these rows, submitted (a new version each time)."""
    draft = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=now, contact_id=None
    )
    registrations.replace_nominees(
        session=session, draft=draft, now=now, contact_id=None,
        rows=[registrations.validate(campaign.regime, row) for row in rows],
    )  # fmt: skip
    registrations.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
        now=now, contact_id=None,
    )  # fmt: skip
