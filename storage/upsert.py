"""INSERT … ON CONFLICT, built once per dialect: one statement where a SELECT-then-INSERT races."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert


@dataclass(frozen=True)
class PerDialect:
    """The same statement for SQLite and for PostgreSQL, whose ON CONFLICT constructs differ."""

    sqlite: Insert
    postgresql: Insert

    def on(self, conn: Connection) -> Insert:
        """The statement for ``conn``'s database."""
        return self.postgresql if conn.dialect.name == "postgresql" else self.sqlite


def insert_ignore(
    table: Table, keys: Iterable[str], returning: Sequence[ColumnElement[Any]] = ()
) -> PerDialect:
    """Inserts a row unless one with the same ``keys`` (a unique constraint) exists; with
    ``returning``, the statement gives those columns of the rows it did insert."""
    index = list(keys)
    lite = sqlite.insert(table).on_conflict_do_nothing(index_elements=index)
    pg = postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    if returning:
        return PerDialect(lite.returning(*returning), pg.returning(*returning))
    return PerDialect(lite, pg)


def upsert(table: Table, keys: Iterable[str], replace: Iterable[str]) -> PerDialect:
    """Inserts a row, or sets ``replace`` on the row with the same ``keys``."""
    index = list(keys)
    lite, pg = sqlite.insert(table), postgresql.insert(table)
    return PerDialect(
        lite.on_conflict_do_update(
            index_elements=index, set_={name: lite.excluded[name] for name in replace}
        ),
        pg.on_conflict_do_update(
            index_elements=index, set_={name: pg.excluded[name] for name in replace}
        ),
    )
