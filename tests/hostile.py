"""Small workbooks that ask for a lot: the hostile set of the tests and of bench/hostile_files.

Written part by part with zipfile, so each file says exactly what an attacker would make it
say (a stated size, a part's unpacked length, a row's width), whatever openpyxl would write.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
    "{strings}</Types>"
)
_STRINGS_TYPE = '<Override PartName="/{part}" ContentType="' + _OOXML + '.sharedStrings+xml"/>'
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{_REL}">'
    '<sheets><sheet name="Cá nhân" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    "{strings}</Relationships>"
)
_STRINGS_REL = '<Relationship Id="rId9" Type="' + _REL + '/sharedStrings" Target="{target}"/>'
HEADER = ("STT", "Họ và tên", "Chức vụ, đơn vị", "Danh hiệu thi đua")


def _column(index: int) -> str:
    """1 → A, 16384 → XFD."""
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(column: int, row: int, value: object) -> str:
    ref = f"{_column(column)}{row}"
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def row_xml(number: int, values: Iterable[object], *, first_column: int = 1) -> str:
    """One <row> of cells from ``first_column`` on."""
    cells = "".join(_cell(first_column + i, number, v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def workbook(
    path: Path,
    rows: Iterable[str] | Iterator[str],
    *,
    dimension: str = "A1",
    strings: Iterable[bytes] | None = None,
    strings_part: str = "xl/sharedStrings.xml",
) -> Path:
    """Writes a one-sheet workbook whose sheet holds ``rows`` (row XML, streamed) and, when
    given, a shared strings part streamed from ``strings`` (its XML, in pieces)."""
    types = _STRINGS_TYPE.format(part=strings_part) if strings is not None else ""
    rels = (
        _STRINGS_REL.format(target="/" + strings_part) if strings is not None else ""
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(strings=types))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(strings=rels))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
                f'<dimension ref="{dimension}"/><sheetData>'.encode()
            )
            buffer: list[str] = []
            for row in rows:
                buffer.append(row)
                if len(buffer) >= 4096:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
            sheet.write(("".join(buffer) + "</sheetData></worksheet>").encode())
        if strings is not None:
            with archive.open(strings_part, "w", force_zip64=True) as part:
                for piece in strings:
                    part.write(piece)
    return path


def dimension_bomb(path: Path) -> Path:
    """2 KB that states A1:XFD1048576 and holds a cell on the last row."""
    return workbook(
        path,
        [row_xml(1, HEADER), row_xml(1_048_576, ["x"])],
        dimension="A1:XFD1048576",
    )


def one_long_string(path: Path, size: int, *, part: str = "xl/sharedStrings.xml") -> Path:
    """One shared string of ``size`` characters (1 GiB packs into about 1 MB)."""

    def pieces() -> Iterator[bytes]:
        yield f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
        chunk = b"A" * (1 << 20)
        left = size
        while left > 0:
            yield chunk[: min(left, len(chunk))]
            left -= len(chunk)
        yield b"</t></si></sst>"

    return workbook(path, [row_xml(1, HEADER), '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'],
                    strings=pieces(), strings_part=part)  # fmt: skip


def many_rows(path: Path, count: int) -> Path:
    """The header and ``count`` rows of one number each (1,048,576: every row Excel has)."""
    return workbook(path, (row_xml(n, [n]) if n > 1 else row_xml(1, HEADER)
                           for n in range(1, count + 1)))  # fmt: skip


def wide_rows(path: Path, columns: int, count: int) -> Path:
    """``count`` rows of ``columns`` numbers (16,384: every column Excel has)."""
    values = list(range(columns))
    return workbook(path, (row_xml(n, values) for n in range(1, count + 1)))


def one_huge_cell(path: Path, size: int) -> Path:
    """One inline cell of ``size`` characters in the sheet itself."""

    def rows() -> Iterator[str]:
        yield row_xml(1, HEADER)
        yield '<row r="2"><c r="B2" t="inlineStr"><is><t>'
        piece = "A" * (1 << 20)
        left = size
        while left > 0:
            yield piece[: min(left, len(piece))]
            left -= len(piece)
        yield "</t></is></c></row>"

    return workbook(path, rows())


def many_cells(path: Path, columns: int, count: int) -> Path:
    """A table within every size limit but with more filled cells than a list needs."""
    return workbook(path, (row_xml(n, [f"v{n}"] * columns) if n > 1 else row_xml(1, HEADER)
                           for n in range(1, count + 1)))  # fmt: skip


def many_parts(path: Path, count: int) -> Path:
    """A zip of ``count`` empty members (a directory to read before anything else)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(strings=""))
        for index in range(count):
            archive.writestr(f"x/{index}", b"")
    return path


def with_entity(path: Path, part: str) -> Path:
    """A workbook one of whose parts declares an external entity and uses an undefined one."""
    strings = [f'<?xml version="1.0"?><sst xmlns="{MAIN}"><si><t>x</t></si></sst>'.encode()]
    workbook(path, [row_xml(1, HEADER), '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'],
             strings=strings)  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts[part].decode()
    xml = xml.replace("?>", '?><!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]>', 1)
    parts[part] = xml.replace("</", "&a;&b;</", 1).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


HOSTILE = {
    "dimension A1:XFD1048576": dimension_bomb,
    "1 GiB shared string": lambda p: one_long_string(p, 1 << 30),
    "1,048,576 rows": lambda p: many_rows(p, 1_048_576),
    "60,001 rows, within the sizes": lambda p: many_rows(p, 60_001),
    "16,384 columns × 200 rows": lambda p: wide_rows(p, 16_384, 200),
    "16,384 columns × 1 row": lambda p: wide_rows(p, 16_384, 1),
    "one 256 MiB cell": lambda p: one_huge_cell(p, 256 << 20),
    "70,000 zip parts": lambda p: many_parts(p, 70_000),
    "400,000 filled cells (a 50,000-row registry)": lambda p: many_cells(p, 20, 20_000),
}
