"""Reads the rows of an uploaded .xlsx or .csv by its content, refusing what is not a table.

A few kilobytes of workbook can declare a million rows, a gigabyte of shared strings or a
row 16,384 cells wide; every read is bounded (``Limits``), checked before the zip is opened
and again while the rows stream, so such a file is refused in moments, not after minutes.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import signal
import struct
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.xml.constants import CONTYPES_NS, SHARED_STRINGS
from openpyxl.xml.functions import fromstring

from storage import files
from storage.text import clean

Cell = object
Row = tuple[Cell, ...]
Sheets = list[tuple[str, list[Row]]]
Reading = tuple[str, Sheets] | tuple[str, str, dict[str, object]]  # ("ok", sheets) | ("error", …)

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_DIRECTORY = b"PK\x05\x06"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one file may hold; far above any real list, far below what would hurt."""

    rows: int = 60_000  # per sheet, blank rows included
    columns: int = 200  # up to the last filled cell of a row
    cells: int = 1_500_000  # filled cells in the whole file
    cell_chars: int = 32_767  # Excel's own limit for one cell
    part_bytes: int = 48 * MIB  # one part of the workbook (a sheet's XML), unpacked
    strings_bytes: int = 24 * MIB  # the shared strings' XML, unpacked (held in memory)
    total_bytes: int = 128 * MIB  # every part together, unpacked
    parts: int = 1_000
    seconds: float = 30.0


FORM_LIMITS = Limits(
    rows=25_000, columns=60, cells=80_000, part_bytes=16 * MIB, strings_bytes=8 * MIB,
    total_bytes=40 * MIB, parts=300, seconds=10.0,
)  # fmt: skip


def is_blank(row: Row) -> bool:
    """A row with nothing in it (empty or spaces only): skipped by every import."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


class TableFileError(ValueError):
    """A whole file is refused; ``code`` and ``params`` feed the user's message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def read_sheets(
    path: Path, *, max_bytes: int, limits: Limits = Limits()
) -> Iterator[tuple[str, Iterator[Row]]]:
    """Yields (sheet name, lazy rows) per sheet, or one table for a CSV, judged by content;
    raises TableFileError, also mid-stream, for a file beyond ``limits``."""
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
    budget = _Budget(limits)
    known = _known(path, limits)
    if known is not None:
        for sheet, kept in known:
            yield sheet, budget.rows(sheet, iter(kept))
        return
    if head.startswith(_ZIP):
        _check_parts(path, limits)
        for sheet, rows in _xlsx_sheets(path):
            yield sheet, budget.rows(sheet, rows)
    elif head.startswith(_OLE):
        raise TableFileError("file_encrypted" if _is_encrypted(path) else "file_legacy_xls")
    else:
        yield path.name, budget.rows(path.name, _csv_rows(path.read_bytes()))


class _Budget:
    """Counts what one file's rows spend against its limits, refusing at the first excess."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = 0
        self.deadline = time.monotonic() + limits.seconds

    def rows(self, sheet: str, rows: Iterator[Row]) -> Iterator[Row]:
        """The sheet's rows, trailing empty cells dropped, each checked before it is given."""
        limits = self.limits
        for number, row in enumerate(rows, start=1):
            if number > limits.rows:
                raise TableFileError("sheet_too_many_rows", sheet=sheet, limit=limits.rows)
            if number % 256 == 0 and time.monotonic() > self.deadline:
                raise TableFileError("file_too_slow", seconds=math.ceil(limits.seconds))
            width = len(row)
            while width and (row[width - 1] is None or row[width - 1] == ""):
                width -= 1
            if width > limits.columns:
                raise TableFileError(
                    "sheet_too_many_columns", sheet=sheet, row=number,
                    column=get_column_letter(limits.columns),
                )  # fmt: skip
            unsafe = False
            for value in row[:width]:
                if value is None:
                    continue
                self.cells += 1
                if isinstance(value, str):
                    if len(value) > limits.cell_chars:
                        raise TableFileError(
                            "cell_too_long", sheet=sheet, row=number, limit=limits.cell_chars
                        )
                    unsafe = unsafe or clean(value) is not value
            if self.cells > limits.cells:
                raise TableFileError("file_too_many_cells", limit=limits.cells)
            if unsafe:  # a control character anywhere in the file, not only in its head
                yield tuple(clean(v) if isinstance(v, str) else v for v in row[:width])
            else:
                yield row if width == len(row) else row[:width]


def _check_parts(path: Path, limits: Limits) -> None:
    """Refuses a workbook whose zip directory promises more than a list needs, before any
    part is unpacked (the sizes it declares bind: a part that unpacks to more fails its CRC)."""
    with path.open("rb") as handle:
        handle.seek(0, io.SEEK_END)
        handle.seek(max(0, handle.tell() - 65_557))
        tail = handle.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or at + 22 > len(tail):
        raise TableFileError("file_corrupt")
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    if entries > limits.parts:  # 0xFFFF (a zip64 count) too: no workbook needs that many parts
        raise TableFileError("workbook_too_many_parts", limit=limits.parts)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TableFileError("file_corrupt") from None
    if len(members) > limits.parts:
        raise TableFileError("workbook_too_many_parts", limit=limits.parts)
    strings = _shared_strings_part(path, members)
    total = 0
    for member in members:
        cap = limits.strings_bytes if member.filename == strings else limits.part_bytes
        total += member.file_size
        if member.file_size > cap or total > limits.total_bytes:
            raise TableFileError("workbook_unpacks_too_large", limit=min(cap, limits.total_bytes))


def _shared_strings_part(path: Path, members: list[zipfile.ZipInfo]) -> str:
    """The part openpyxl will load whole as the shared strings: the one the content types
    name (whatever it is called), as openpyxl finds it."""
    types = next((m for m in members if m.filename == "[Content_Types].xml"), None)
    if types is None or types.file_size > MIB:
        return "xl/sharedStrings.xml"
    with zipfile.ZipFile(path) as archive:
        try:
            tree = fromstring(archive.read(types))
        except Exception:  # openpyxl will refuse the same file as damaged
            return "xl/sharedStrings.xml"
    for override in tree.iter(f"{{{CONTYPES_NS}}}Override"):
        if override.get("ContentType") == SHARED_STRINGS:
            return str(override.get("PartName", "")).lstrip("/")
    return "xl/sharedStrings.xml"


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
        except (
            InvalidFileException,
            zipfile.BadZipFile,
            KeyError,
            OSError,
            ValueError,
            SyntaxError,
        ):  # fmt: skip  (SyntaxError: XML that does not parse, an entity)
            raise TableFileError("file_corrupt") from None
        try:
            for sheet in workbook.worksheets:
                # The stated size ("A1:XFD1048576") would pad every row to it: rows are taken
                # as they are written instead, and the budget counts them.
                sheet.reset_dimensions()
                yield sheet.title, _guarded(sheet.iter_rows(values_only=True))
        finally:
            workbook.close()


def _guarded(rows: Iterator[Row]) -> Iterator[Row]:
    """Turns a broken sheet part discovered mid-stream into a clear file error."""
    try:
        yield from rows
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError) as exc:
        raise TableFileError("file_corrupt") from exc


def _csv_rows(data: bytes) -> Iterator[Row]:
    """Decodes UTF-8, UTF-16 (Excel's "Unicode text") or cp1258; sniffs the delimiter."""
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from (tuple(row) for row in csv.reader(io.StringIO(text), dialect))
    except csv.Error:  # a field over the csv module's limit, a NUL byte…
        raise TableFileError("file_not_table") from None


def _decode(data: bytes) -> str:
    """Finds the text encoding, refusing binary content."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
    head = text[:65536]  # binary shows at once; a stray control character later is cleaned
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in head) or "\ufffd" in head:
        raise TableFileError("file_not_table")
    return text


# Readings made ahead of a step (``preread``, in a worker process), by content and limits.
KEEP_READINGS = 8
_readings: OrderedDict[tuple[str, Limits], Reading] = OrderedDict()
_readings_lock = threading.Lock()


def preread(path: str, limits: Limits) -> tuple[str, Reading]:
    """Reads a whole file within ``limits`` (time enforced by an alarm too, since one part can
    take long between rows): (its sha256, the reading), for ``remember``. Runs in the files
    worker, whose memory is capped: a MemoryError there is a refusal, not a crash."""
    digest = files.digest(Path(path))
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.setitimer(signal.ITIMER_REAL, limits.seconds + 1)
    try:
        sheets = [(name, list(rows)) for name, rows in read_sheets(
            Path(path), max_bytes=Path(path).stat().st_size, limits=limits
        )]  # fmt: skip
        reading: Reading = ("ok", sheets)
    except TableFileError as error:
        reading = ("error", error.code, dict(error.params))
    except _TooSlow:
        reading = ("error", "file_too_slow", {"seconds": math.ceil(limits.seconds)})
    except MemoryError:
        reading = ("error", "workbook_unpacks_too_large", {"limit": limits.total_bytes})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return digest, reading


def read_before_writing(path: Path, *, max_bytes: int, limits: Limits = Limits()) -> None:
    """Reads a file now and keeps the reading, so a write transaction that reads it next
    (an import beside the running service, on SQLite's one write lock) holds the lock for
    its writes only; a file that cannot be read is left for that reader to refuse."""
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return
    except OSError:
        return
    digest, reading = preread(str(path), limits)
    remember(digest, limits, reading)


def remember(digest: str, limits: Limits, reading: Reading) -> None:
    """Keeps a reading made ahead, for the step that will ask for the same file."""
    with _readings_lock:
        _readings[(digest, limits)] = reading
        _readings.move_to_end((digest, limits))
        while len(_readings) > KEEP_READINGS:
            _readings.popitem(last=False)


def _known(path: Path, limits: Limits) -> Sheets | None:
    """A reading made ahead of this content: its rows (budgeted again by the caller), its
    refusal when made within the same limits, or None to read the file now."""
    if not _readings:
        return None
    digest = files.digest(path)
    with _readings_lock:
        found = [(made, r) for (d, made), r in _readings.items() if d == digest]
    for made, reading in found:
        if reading[0] == "ok":
            return reading[1]  # type: ignore[return-value]
        if made == limits:
            _status, code, params = reading  # type: ignore[misc]
            raise TableFileError(code, **params)
    return None


class _TooSlow(Exception):
    """The alarm of ``preread``."""


def _too_slow(signum: int, frame: object) -> None:
    raise _TooSlow
