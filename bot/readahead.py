"""Reads a sent spreadsheet ahead of its chat's turn, in the files worker process.

Reading a workbook is CPU work of seconds; in the chat's turn it would hold every other chat
on SQLite (one writer) and share the GIL with all of them. Read ahead, the step finds the
rows ready (``storage.tabular`` keeps them by content) and its turn stays short.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot import offload
from storage import tabular

log = logging.getLogger(__name__)
_TEXT_HEAD = 4096


def read_ahead(path: Path) -> None:
    """Reads ``path`` within the registration form's limits and keeps the reading; anything
    that is not a spreadsheet (a PDF, a photo) is skipped. Blocks: call it from a thread."""
    if not _may_be_table(path):
        return
    try:
        digest, reading = offload.call(tabular.preread, str(path), tabular.FORM_LIMITS)
    except Exception:  # the step reads the file itself, within the same limits
        log.exception("could not read %s ahead of its step", path.name)
        return
    tabular.remember(digest, tabular.FORM_LIMITS, reading)


def _may_be_table(path: Path) -> bool:
    """A zip (an .xlsx, or a .docx the reading refuses at once) or text (a CSV in any
    encoding): not a PDF, a photo or a .doc."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_TEXT_HEAD)
    except OSError:
        return False
    if head.startswith(b"PK\x03\x04") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not head.startswith(b"%PDF") and b"\x00" not in head
