"""Invite codes: unguessable, single use, expiring; only a hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Contact, Enterprise, Invitation, Role
from storage.registry import RegistryError

CODE_BYTES = 18  # 144 random bits -> 24 URL-safe characters, inside Telegram's 64-char payload


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
    if role == Role.CONTACT and enterprise is None:
        raise RegistryError("invite_needs_enterprise")
    if valid_for <= timedelta(0):
        raise RegistryError("invite_validity_invalid")
    code = secrets.token_urlsafe(CODE_BYTES)
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


def check_invitation(
    *, session: Session, code: str, now: datetime
) -> tuple[Redemption, Invitation | None]:
    """Looks a code up without using it, so the person can confirm first."""
    invitation = session.exec(select(Invitation).where(Invitation.code_hash == _hash(code))).first()
    if invitation is None:
        return Redemption.UNKNOWN, None
    return check_invitation_row(invitation=invitation, now=now)


def check_invitation_row(
    *, invitation: Invitation, now: datetime
) -> tuple[Redemption, Invitation | None]:
    """Whether a loaded invitation can still be used at ``now``."""
    if invitation.used_at is not None:
        return Redemption.USED, invitation
    if invitation.expires_at <= now:
        return Redemption.EXPIRED, invitation
    return Redemption.OK, invitation


def use_invitation(
    *, session: Session, invitation: Invitation, contact: Contact, now: datetime
) -> bool:
    """Marks a code used by ``contact``; False if another chat used it first (race-safe)."""
    result = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.used_at).is_(None))
        .values(used_at=now, used_by_contact_id=contact.id)
    )
    session.refresh(invitation)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
