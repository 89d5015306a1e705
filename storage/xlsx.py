"""Writing workbooks safely: text stays text, so a cell like "=HYPERLINK(...)" never runs, and
no stored character can make a workbook fail to save."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from storage.text import clean


@contextmanager
def whole_file(path: Path) -> Iterator[Path]:
    """Where to write ``path``'s content: a sibling that becomes ``path`` only once complete,
    so an interrupted export leaves no truncated file (and an earlier one stays whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def whole_workbook(book: Workbook, path: Path) -> Iterator[None]:
    """Saves ``book`` to ``path`` when the block ends, whole or not at all. A write-only
    workbook keeps each sheet in a temporary file until it is saved: when the block fails, it
    is saved aside and dropped, which deletes them."""
    with whole_file(path) as part:
        try:
            yield
        except BaseException:
            with suppress(Exception):
                book.save(part)
            raise
        book.save(part)


def writable(value: str) -> str:
    """Text a workbook can hold: what was stored before inputs were cleaned (or came by another
    way) must not make a whole export fail on one control character."""
    return ILLEGAL_CHARACTERS_RE.sub("", clean(value))


def text_cell(sheet: WriteOnlyWorksheet, value: object, *, bold: bool = False) -> Cell:
    """A cell whose strings are stored as strings, never inferred as formulas."""
    if isinstance(value, str):
        value = writable(value)
    cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


THOUSANDS = "#,##0"  # Excel shows the separators of the reader's locale (1.250.000 in vi)


def number_cell(sheet: WriteOnlyWorksheet, value: object, *, bold: bool = False) -> Cell:
    """A number shown with thousands separators (blank stays blank)."""
    cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
    if isinstance(value, int | float):
        cell.number_format = THOUSANDS
    if bold:
        cell.font = Font(bold=True)
    return cell


def header_row(sheet: WriteOnlyWorksheet, header: Sequence[str]) -> list[Cell]:
    """A table's header: bold, wrapped, on a light fill, as the forms print it."""
    cells = []
    for name in header:
        cell = text_cell(sheet, name, bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cells.append(cell)
    return cells


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    """Column widths that fit what they hold (set before the first row is written)."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]


def safe_row(sheet: WriteOnlyWorksheet, values: Sequence[object]) -> list[object]:
    """A row to append: plain values, text cleaned, and cells for text openpyxl would take
    for a formula."""
    row: list[object] = []
    for value in values:
        if isinstance(value, str):
            value = writable(value)
            if value.startswith("="):
                value = text_cell(sheet, value)
        row.append(value)
    return row


def write_table(
    path: Path,
    *,
    title: str,
    sheet_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[int] = (),
) -> None:
    """Writes a titled one-sheet table in write-only (streaming) mode, its header frozen and
    filtered, as a clerk opens it."""
    workbook = Workbook(write_only=True)
    with whole_workbook(workbook, path):
        sheet = workbook.create_sheet(sheet_name[:31])
        sheet.freeze_panes = "A4"  # the title, a blank line and the header stay in view
        for index, width in enumerate(widths):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        sheet.append([text_cell(sheet, title, bold=True)])
        sheet.append([])
        sheet.append([text_cell(sheet, h, bold=True) for h in header])
        count = 0
        for row in rows:
            sheet.append([text_cell(sheet, v) for v in row])
            count += 1
        sheet.auto_filter.ref = f"A3:{get_column_letter(max(1, len(header)))}{3 + count}"
