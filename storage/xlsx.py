"""Writing workbooks safely: text stays text, so a cell like "=HYPERLINK(...)" never runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet


def text_cell(sheet: WriteOnlyWorksheet, value: object, *, bold: bool = False) -> Cell:
    """A cell whose strings are stored as strings, never inferred as formulas."""
    cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def safe_row(sheet: WriteOnlyWorksheet, values: Sequence[object]) -> list[object]:
    """A row to append: plain values, except text openpyxl would take for a formula."""
    return [text_cell(sheet, v) if isinstance(v, str) and v.startswith("=") else v for v in values]


def write_table(
    path: Path,
    *,
    title: str,
    sheet_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[int] = (),
) -> None:
    """Writes a titled one-sheet table in write-only (streaming) mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append([text_cell(sheet, title, bold=True)])
    sheet.append([])
    sheet.append([text_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([text_cell(sheet, v) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
