"""One-time file links for channels without files: unguessable tokens, only their hash
kept, bound to a chat (uploads also to its step and state version), expiring."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from storage.models import FileLink

UPLOAD_TTL = timedelta(minutes=30)
DOWNLOAD_TTL = timedelta(hours=1)  # lists hold personal data: short, asked again if needed
_LINK: Table = FileLink.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Link:
    """A link found by its token."""

    id: int
    kind: str
    channel: str
    chat_id: str
    step: str | None
    version: int | None
    path: str | None
    name: str | None
    expires_at: datetime
    used_at: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "ignore")).hexdigest()


def issue(
    conn: Connection, *, kind: str, channel: str, chat_id: str, now: datetime, ttl: timedelta,
    step: str | None = None, version: int | None = None, path: Path | None = None,
    name: str | None = None,
) -> str:  # fmt: skip
    """A new link's token (given once, never stored in clear)."""
    token = secrets.token_urlsafe(24)
    conn.execute(
        insert(_LINK),
        {
            "token_hash": _hash(token), "kind": kind, "channel": channel, "chat_id": chat_id,
            "step": step, "version": version, "path": str(path) if path else None,
            "name": name, "created_at": now, "expires_at": now + ttl,
        },
    )  # fmt: skip
    return token


def find(conn: Connection, token: str, kind: str) -> Link | None:
    """The link of that token and kind, whatever its state (None: no such link)."""
    if not token or len(token) > 64:
        return None
    row = conn.execute(
        select(*(_LINK.c[f] for f in Link.__dataclass_fields__)).where(
            _LINK.c.token_hash == _hash(token), _LINK.c.kind == kind
        )
    ).first()
    return Link(**row._mapping) if row is not None else None


def use(conn: Connection, link_id: int, now: datetime) -> bool:
    """Takes a link for good, once: False if it was used or expired meanwhile (two uploads
    racing: the first UPDATE wins)."""
    taken = conn.execute(
        update(_LINK)
        .where(_LINK.c.id == link_id, _LINK.c.used_at.is_(None), _LINK.c.expires_at > now)
        .values(used_at=now)
    )
    return bool(taken.rowcount)


def release(conn: Connection, link_id: int) -> None:
    """Gives a taken upload link back (its file could not be handed to the chat)."""
    conn.execute(update(_LINK).where(_LINK.c.id == link_id).values(used_at=None))
