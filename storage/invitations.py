"""Invite codes: unguessable, single use, expiring; only a hash is kept."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from storage import audit, links
from storage.conversations import Person
from storage.models import Contact, Enterprise, Invitation, Role
from storage.registry import RegistryError
from storage.types import UTCDateTime

# Codes are read out by phone and typed on phones: 12 characters from 32 without look-alikes
# (no 0/O, 1/I), 5 bits each = 60 random bits (59.95: at least one is a digit), shown in groups
# of four ("K7MW-3QXA-9HDE"); case, spaces and hyphens do not matter. A valid Telegram start
# payload as it is.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12


class Redemption(StrEnum):
    """Why a code was or was not accepted."""

    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedInvitation:
    """The invitation row and the clear code, which exists only in this return value."""

    invitation: Invitation
    code: str


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode("ascii", "ignore")).hexdigest()


def normalise(code: str) -> str:
    """A code as typed ("k7mw 3qxa-9hde") as it was issued ("K7MW-3QXA-9HDE")."""
    bare = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(bare) != CODE_LENGTH or any(ch not in ALPHABET for ch in bare):
        return code.strip()  # an older code (URL-safe, case matters) or junk: as it was typed
    return "-".join(bare[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def looks_like_code(text: str) -> bool:
    """Whether a typed text is an invitation code of ours, grouped or not (a chat without
    deep links sends the code alone)."""
    text = text.strip().upper()
    if re.fullmatch(r"[0-9A-Z]{4}([ -]?)[0-9A-Z]{4}\1[0-9A-Z]{4}", text) is None:
        return False
    bare = text.replace(" ", "").replace("-", "")
    if any(ch not in ALPHABET for ch in bare):
        return False
    return "-" in text or any(ch.isdigit() for ch in bare)  # "THUY DUNG BANG" is a name


def new_code() -> str:
    """A fresh code in its grouped form, with a digit in it: a code of letters only, typed with
    spaces, could not be told from a name (``looks_like_code``)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch.isdigit() for ch in code):  # 31 codes in 32 the first time
            return normalise(code)


def create_invitation(
    *,
    session: Session,
    role: Role,
    created_by: str,
    now: datetime,
    valid_for: timedelta = timedelta(days=30),
    enterprise: Enterprise | None = None,
    contact: Contact | None = None,
) -> IssuedInvitation:
    """Issues a code for a role; an enterprise contact's invite names its enterprise."""
    if contact is not None:  # redeemed, it links that person, with their role
        if role != contact.role:
            raise RegistryError("invite_role_mismatch", id=contact.id, role=contact.role)
        if enterprise is None and contact.enterprise_id is not None:
            enterprise = session.get(Enterprise, contact.enterprise_id)
    if role == Role.CONTACT and enterprise is None:
        raise RegistryError("invite_needs_enterprise")
    if valid_for <= timedelta(0):
        raise RegistryError("invite_validity_invalid")
    code = new_code()
    invitation = Invitation(
        code_hash=_hash(code),
        role=role,
        enterprise_id=enterprise.id if enterprise else None,
        contact_id=contact.id if contact else None,
        created_by=created_by,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    session.flush()
    return IssuedInvitation(invitation, code)


@dataclass(frozen=True)
class Invite:
    """An invitation as the chat shows and redeems it, with the enterprise it names."""

    id: int
    role: str
    enterprise_id: int | None
    contact_id: int | None
    expires_at: datetime
    used_at: datetime | None
    enterprise_name: str | None
    tax_code: str | None

    def status(self, now: datetime) -> Redemption:
        """Whether the code can still be used at ``now``."""
        if self.used_at is not None:
            return Redemption.USED
        if self.expires_at <= now:
            return Redemption.EXPIRED
        return Redemption.OK


_INVITATION: Table = Invitation.__table__  # type: ignore[attr-defined]
_CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
_ENTERPRISE: Table = Enterprise.__table__  # type: ignore[attr-defined]
_FIELDS = ("id", "role", "enterprise_id", "contact_id", "expires_at", "used_at")
_INVITE = select(  # chats look invitations up on every /start CODE and confirm: prepared once
    *(_INVITATION.c[name] for name in _FIELDS),
    _ENTERPRISE.c.name.label("enterprise_name"),
    _ENTERPRISE.c.tax_code,
).select_from(_INVITATION.outerjoin(_ENTERPRISE, _ENTERPRISE.c.id == _INVITATION.c.enterprise_id))
_BY_HASH = _INVITE.where(_INVITATION.c.code_hash == bindparam("code_hash"))
_BY_ID = _INVITE.where(_INVITATION.c.id == bindparam("invitation_id"))
_NOW = bindparam("now", type_=UTCDateTime())
_USE = (  # single use, race-safe: the code is taken by whichever chat's UPDATE matches first
    update(_INVITATION)
    .where(
        _INVITATION.c.id == bindparam("invitation_id"),
        _INVITATION.c.used_at.is_(None),
        _INVITATION.c.expires_at > _NOW,
    )
    .values(used_at=_NOW)
    .returning(_INVITATION.c.role, _INVITATION.c.enterprise_id, _INVITATION.c.contact_id)
)
_USED_BY = update(_INVITATION).where(_INVITATION.c.id == bindparam("invitation_id"))
_INVITED = (
    select(
        _CONTACT.c.id,
        _CONTACT.c.enterprise_id,
        _CONTACT.c.full_name,
        _CONTACT.c.role,
        _ENTERPRISE.c.name,
        _ENTERPRISE.c.tax_code,
    )
    .select_from(_CONTACT.outerjoin(_ENTERPRISE, _ENTERPRISE.c.id == _CONTACT.c.enterprise_id))
    .where(_CONTACT.c.id == bindparam("contact_id"))
)
_NEW_CONTACT = insert(_CONTACT).returning(_CONTACT.c.id)
_ENTERPRISE_NAME = select(_ENTERPRISE.c.name, _ENTERPRISE.c.tax_code).where(
    _ENTERPRISE.c.id == bindparam("enterprise_id")
)


def check_invitation(
    *, conn: Connection, code: str, now: datetime
) -> tuple[Redemption, Invite | None]:
    """Looks a code up without using it, so the person can confirm first."""
    row = conn.execute(_BY_HASH, {"code_hash": _hash(normalise(code))}).first()
    if row is None:
        return Redemption.UNKNOWN, None
    invite = Invite(**row._mapping)
    return invite.status(now), invite


def find_invitation(*, conn: Connection, invitation_id: int) -> Invite | None:
    """The invitation a chat is confirming, as it is now."""
    row = conn.execute(_BY_ID, {"invitation_id": invitation_id}).first()
    return Invite(**row._mapping) if row is not None else None


def redeem(
    *, conn: Connection, invitation_id: int, name: str, channel: str, chat_id: str, now: datetime
) -> Person | None:
    """Uses the code and links the chat to the invited contact, created if the code names none.

    None if the code can no longer be used (used, by another chat too, or expired): nothing is
    written then.
    """
    row = conn.execute(_USE, {"invitation_id": invitation_id, "now": now}).first()
    if row is None:
        return None
    used = row._mapping
    found = None
    if used["contact_id"] is not None:
        found = conn.execute(_INVITED, {"contact_id": used["contact_id"]}).first()
    if found is not None:
        person = Person(*found)
    else:
        role = used["role"] if used["role"] in tuple(Role) else Role.CONTACT
        enterprise_id = used["enterprise_id"]
        values = {"enterprise_id": enterprise_id, "full_name": name, "role": role}
        contact_id = conn.execute(_NEW_CONTACT, {**values, "created_at": now}).scalar_one()
        named = None
        if enterprise_id is not None:
            named = conn.execute(_ENTERPRISE_NAME, {"enterprise_id": enterprise_id}).first()
        enterprise_name, tax_code = named if named is not None else (None, None)
        person = Person(contact_id, enterprise_id, name, role, enterprise_name, tax_code)
    conn.execute(_USED_BY, {"invitation_id": invitation_id, "used_by_contact_id": person.id})
    links.link_chat(conn=conn, contact_id=person.id, channel=channel, chat_id=chat_id, now=now)
    audit.record(
        db=conn,
        actor=f"contact:{person.id}",
        action="contact.link",
        now=now,
        target=f"{channel}:{chat_id}",
        details={"invitation": invitation_id, "role": used["role"], "enterprise": person.tax_code},
    )
    return person
