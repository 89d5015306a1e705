"""Conversation state per chat, read together with the person linked to the chat, row-locked.

Every update reads and writes this row, so it goes through prepared SQLAlchemy Core statements
(compiled once, cached) rather than ORM objects: the ORM's identity map and unit of work cost
more than the rest of a typical update.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from storage.models import ChatLink, Contact, Conversation, Enterprise
from storage.upsert import insert_ignore

_CONV: Table = Conversation.__table__  # type: ignore[attr-defined]
_LINK: Table = ChatLink.__table__  # type: ignore[attr-defined]
_CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
_ENTERPRISE: Table = Enterprise.__table__  # type: ignore[attr-defined]


@dataclass
class ChatState:
    """Where a chat stands: its step, the step's data, and the chat's settings."""

    id: int
    channel: str
    chat_id: str
    updated_at: datetime
    language: str | None = None
    step: str = ""
    data: dict[str, object] = field(default_factory=dict)
    version: int = 0
    recent_keys: list[str] | None = None  # the channel's keys of the last deliveries answered
    failed_codes: int = 0
    failed_since: datetime | None = None


@dataclass(frozen=True)
class Person:
    """The contact a chat is linked to, as a step needs it (no ORM object to keep in sync)."""

    id: int
    enterprise_id: int | None
    full_name: str
    role: str
    enterprise_name: str | None = None
    tax_code: str | None = None

    @classmethod
    def of(cls, contact: Contact, enterprise: Enterprise | None = None) -> Person:
        """The snapshot of a contact just created or changed through the ORM."""
        assert contact.id is not None
        return cls(
            contact.id,
            contact.enterprise_id,
            contact.full_name,
            contact.role,
            enterprise.name if enterprise else None,
            enterprise.tax_code if enterprise else None,
        )


_STATE_FIELDS = tuple(f.name for f in fields(ChatState))
_PERSON = (
    _CONTACT.c.id.label("p_id"),
    _CONTACT.c.enterprise_id.label("p_enterprise_id"),
    _CONTACT.c.full_name.label("p_full_name"),
    _CONTACT.c.role.label("p_role"),
    _ENTERPRISE.c.name.label("p_enterprise_name"),
    _ENTERPRISE.c.tax_code.label("p_tax_code"),
)
_KEY = (_CONV.c.channel == bindparam("channel"), _CONV.c.chat_id == bindparam("chat_id"))
_LOAD = (
    select(*(_CONV.c[name] for name in _STATE_FIELDS), *_PERSON)
    .select_from(
        _CONV.outerjoin(
            _LINK, and_(_LINK.c.channel == _CONV.c.channel, _LINK.c.chat_id == _CONV.c.chat_id)
        )
        .outerjoin(_CONTACT, _CONTACT.c.id == _LINK.c.contact_id)
        .outerjoin(_ENTERPRISE, _ENTERPRISE.c.id == _CONTACT.c.enterprise_id)
    )
    .where(*_KEY)
)
# PostgreSQL: one update per chat at a time. The lock is taken by its own statement: a read that
# waits for a lock sees the locked row anew but the joined rows (the link) as they were before.
_LOCK = select(_CONV.c.id).where(*_KEY).with_for_update()
_CREATE = insert_ignore(_CONV, ("channel", "chat_id"))
_RECREATE = insert(_CONV).returning(_CONV.c.id)
_SAVE = update(_CONV).where(_CONV.c.id == bindparam("state_id"))  # SET: the values given


def open_chat(
    *, conn: Connection, channel: str, chat_id: str, now: datetime
) -> tuple[ChatState, Person | None]:
    """The chat's state (created on first contact) and the person linked to it, locked."""
    keys = {"channel": channel, "chat_id": chat_id}
    fresh = {"updated_at": now, "step": "", "data": {}, "version": 0, "failed_codes": 0}
    if conn.dialect.name == "postgresql" and conn.execute(_LOCK, keys).first() is None:
        conn.execute(_CREATE.on(conn), {**keys, **fresh})  # another worker may do it too
        conn.execute(_LOCK, keys).one()
    row = conn.execute(_LOAD, keys).first()
    if row is None:  # SQLite's first contact (SQLite has one writer at a time anyway)
        conn.execute(_CREATE.on(conn), {**keys, **fresh})
        row = conn.execute(_LOAD, keys).one()
    return _state(row._mapping), _person(row._mapping)


def save_chat(*, conn: Connection, state: ChatState) -> None:
    """Writes the state back in the caller's transaction (with whatever the step wrote)."""
    values: dict[str, Any] = {name: getattr(state, name) for name in _STATE_FIELDS}
    values["state_id"] = values.pop("id")
    del values["channel"], values["chat_id"]
    if conn.execute(_SAVE, values).rowcount == 0:  # created in a transaction a step rolled back
        del values["state_id"]
        keys = {"channel": state.channel, "chat_id": state.chat_id}
        state.id = conn.execute(_RECREATE, {**keys, **values}).scalar_one()


def _state(mapping: RowMapping) -> ChatState:
    state = ChatState(**{name: mapping[name] for name in _STATE_FIELDS})
    if not isinstance(state.data, dict):  # a hand-edited or legacy row: start the step afresh
        state.data = {}
    return state


def _person(mapping: RowMapping) -> Person | None:
    if mapping["p_id"] is None:
        return None
    return Person(
        mapping["p_id"],
        mapping["p_enterprise_id"],
        mapping["p_full_name"],
        mapping["p_role"],
        mapping["p_enterprise_name"],
        mapping["p_tax_code"],
    )


def state_of(*, conn: Connection, channel: str, chat_id: str) -> tuple[str | None, int | None]:
    """Where a chat stands: its step and state version (None, None: no such chat)."""
    row = conn.execute(select(_CONV.c.step, _CONV.c.version).where(*_KEY), {
        "channel": channel, "chat_id": chat_id,
    }).first()  # fmt: skip
    return (row.step, row.version) if row is not None else (None, None)
