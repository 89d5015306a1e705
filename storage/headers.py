"""Finding a table's header row by the folded spellings people give its columns."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from storage.tabular import Row
from storage.text import search_key

HEADER_SCAN_ROWS = 30
_PARENS = re.compile(r"\([^)]*\)")

Aliases = Mapping[str, Sequence[str]]


def header_field(cell: object, aliases: Aliases) -> str | None:
    """The field a header cell names; the longest matching spelling wins."""
    if cell is None:
        return None
    key = search_key(_PARENS.sub(" ", str(cell)))
    if not key:
        return None
    best: tuple[int, str] | None = None
    for name, spellings in aliases.items():
        for alias in spellings:
            if key == alias or (" " in alias and key.startswith(alias + " ")):
                if best is None or len(alias) > best[0]:
                    best = (len(alias), name)
    return best[1] if best else None


def find_header(
    rows: Iterator[Row], aliases: Aliases, required: Sequence[str], one_of: Sequence[str] = ()
) -> tuple[int, dict[str, int]] | None:
    """Scans the first rows for one naming every required column (and one of ``one_of``)."""
    for index, row in enumerate(rows, start=1):
        if index > HEADER_SCAN_ROWS:
            return None
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            name = header_field(cell, aliases)
            if name and name not in columns:
                columns[name] = position
        if all(name in columns for name in required) and (
            not one_of or any(name in columns for name in one_of)
        ):
            return index, columns
    return None


def cell(row: Row, columns: Mapping[str, int], name: str) -> object:
    """A raw cell by field name (stripped when text), or None."""
    position = columns.get(name)
    if position is None or position >= len(row):
        return None
    value = row[position]
    return value.strip() if isinstance(value, str) else value
