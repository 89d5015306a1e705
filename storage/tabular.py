"""Reads the rows of an uploaded .xlsx or .csv by its content, refusing what is not a table."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import msoffcrypto
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

Cell = object
Row = tuple[Cell, ...]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableFileError(ValueError):
    """A whole file is refused; ``code`` and ``params`` feed the user's message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def read_sheets(path: Path, *, max_bytes: int) -> Iterator[tuple[str, Iterator[Row]]]:
    """Yields (sheet name, lazy rows) per sheet, or one table for a CSV, judged by content."""
    try:
        size = path.stat().st_size
    except OSError:
        raise TableFileError("file_missing", path=str(path)) from None
    if size == 0:
        raise TableFileError("file_empty")
    if size > max_bytes:
        raise TableFileError("file_too_large", size=size, limit=max_bytes)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_ZIP):
        yield from _xlsx_sheets(path)
    elif head.startswith(_OLE):
        raise TableFileError("file_encrypted" if _is_encrypted(path) else "file_legacy_xls")
    else:
        yield path.name, _csv_rows(path.read_bytes())


def _is_encrypted(path: Path) -> bool:
    """Tells a password-protected OOXML workbook from a legacy .xls (both are OLE files)."""
    try:
        with path.open("rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # an unreadable OLE file is treated as a legacy .xls
        return False


def _xlsx_sheets(path: Path) -> Iterator[tuple[str, Iterator[Row]]]:
    """Streams each worksheet's cell values (cached results, never formulas)."""
    with path.open("rb") as handle:  # a handle, so a stored upload needs no .xlsx suffix
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise TableFileError("file_corrupt") from None
        try:
            for sheet in workbook.worksheets:
                yield sheet.title, _guarded(sheet.iter_rows(values_only=True))
        finally:
            workbook.close()


def _guarded(rows: Iterator[Row]) -> Iterator[Row]:
    """Turns a broken sheet part discovered mid-stream into a clear file error."""
    try:
        yield from rows
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise TableFileError("file_corrupt") from exc


def _csv_rows(data: bytes) -> Iterator[Row]:
    """Decodes UTF-8, UTF-16 (Excel's "Unicode text") or cp1258; sniffs the delimiter."""
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from (tuple(row) for row in csv.reader(io.StringIO(text), dialect))


def _decode(data: bytes) -> str:
    """Finds the text encoding, refusing binary content."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:65536]) or "\ufffd" in text[:65536]:
        raise TableFileError("file_not_table")
    return text
