"""Erasing a person's data on request (Decree 13/2023/NĐ-CP): names, phones, chats go; counts,
submissions and a pseudonymised audit trail stay."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from storage.models import (
    AuditEvent,
    AwardResult,
    Campaign,
    ChatLink,
    Contact,
    Conversation,
    Delivery,
    DeliveryStatus,
    Enterprise,
    Inbox,
    Invitation,
    Nominee,
    Registration,
)
from storage.results import person_key
from storage.text import search_key, tone_key


@dataclass(frozen=True)
class Erased:
    """What an erasure changed, for the operator and the audit entry."""

    pseudonym: str
    chats: int = 0
    nominee_rows: int = 0
    audit_entries: int = 0


def pseudonym() -> str:
    """A random label that stands for the person from now on; nothing maps it back."""
    return "XOA-" + secrets.token_hex(4).upper()


def is_erased(name: str) -> bool:
    """Whether a stored name is an erasure's pseudonym."""
    return name.startswith("XOA-") and len(name) == 12


def find_contacts(*, session: Session, name: str) -> list[Contact]:
    """Contacts whose name holds the words searched, diacritics folded."""
    wanted = search_key(name)
    found = session.exec(select(Contact).order_by(col(Contact.id))).all()
    return [c for c in found if wanted and wanted in search_key(c.full_name)]


def find_nominees(*, session: Session, name: str) -> list[tuple[Nominee, Enterprise, Campaign]]:
    """Nominees whose name holds the words searched, with their enterprise and campaign
    (one row per person and enterprise: the newest version's)."""
    wanted = search_key(name)
    if not wanted:
        return []
    rows = session.exec(
        select(Nominee, Enterprise, Campaign)
        .join(Registration, col(Registration.id) == col(Nominee.registration_id))
        .join(Enterprise, col(Enterprise.id) == col(Registration.enterprise_id))
        .join(Campaign, col(Campaign.id) == col(Registration.campaign_id))
        .order_by(col(Nominee.id).desc())
    ).all()
    seen: set[tuple[int | None, str]] = set()
    found = []
    for nominee, enterprise, campaign in rows:
        key = (enterprise.id, tone_key(nominee.name))
        if wanted in search_key(nominee.name) and key not in seen:
            seen.add(key)
            found.append((nominee, enterprise, campaign))
    return found


def erase_contact(*, session: Session, contact: Contact, now: datetime) -> Erased:
    """Drops a contact's name, phone, e-mail, chat links, conversations, received messages,
    unsent reminders and unused invitations; their submissions and sent-reminder counts stay,
    the audit trail names their chats by the pseudonym. The caller commits."""
    label = pseudonym()
    chats = list(session.exec(select(ChatLink).where(ChatLink.contact_id == contact.id)))
    pairs = [(link.channel, link.chat_id) for link in chats]
    audit_entries = 0
    for channel, chat_id in pairs:
        session.execute(
            delete(Conversation).where(
                col(Conversation.channel) == channel, col(Conversation.chat_id) == chat_id
            )
        )
        session.execute(
            delete(Inbox).where(col(Inbox.channel) == channel, col(Inbox.chat_id) == chat_id)
        )
        result = session.execute(
            update(AuditEvent)
            .where(
                or_(
                    col(AuditEvent.target) == f"{channel}:{chat_id}",
                    col(AuditEvent.actor) == f"{channel}:{chat_id}",
                )
            )
            .values(target=f"{channel}:{label}")
        )
        audit_entries += int(result.rowcount)  # type: ignore[attr-defined]
    for link in chats:
        session.delete(link)
    of_person = or_(
        col(Delivery.contact_id) == contact.id,
        *[and_(col(Delivery.channel) == c, col(Delivery.chat_id) == i) for c, i in pairs],
    )
    session.execute(
        delete(Delivery).where(of_person, col(Delivery.status) == DeliveryStatus.PENDING)
    )
    session.execute(update(Delivery).where(of_person).values(chat_id=label, payload={}))
    session.execute(
        delete(Invitation).where(
            col(Invitation.contact_id) == contact.id, col(Invitation.used_at).is_(None)
        )
    )
    contact.full_name, contact.phone, contact.email = label, None, None
    session.add(contact)
    session.flush()
    return Erased(label, chats=len(pairs), audit_entries=audit_entries)


def same_person(*, session: Session, nominee: Nominee) -> list[Nominee]:
    """Every row naming this nominee in any version or year of the same enterprise's
    registrations (name matched with tone placement and case folded)."""
    registration = session.get(Registration, nominee.registration_id)
    assert registration is not None
    key = tone_key(nominee.name)
    rows = session.exec(
        select(Nominee)
        .join(Registration, col(Registration.id) == col(Nominee.registration_id))
        .where(col(Registration.enterprise_id) == registration.enterprise_id)
        .where(col(Nominee.kind) == nominee.kind)
    ).all()
    return [row for row in rows if tone_key(row.name) == key]


def erase_nominee(*, session: Session, nominee: Nominee) -> Erased:
    """Replaces a nominee's name, position and initiative in every row naming them; titles and
    counts stay. The caller commits."""
    label, key = pseudonym(), tone_key(nominee.name)
    rows = same_person(session=session, nominee=nominee)
    for row in rows:
        row.name, row.position, row.initiative = label, None, None
        session.add(row)
    registration = session.get(Registration, nominee.registration_id)
    assert registration is not None
    for result in session.exec(  # their results of every year: the awards stay counted
        select(AwardResult).where(
            AwardResult.enterprise_id == registration.enterprise_id,
            AwardResult.kind == nominee.kind,
            AwardResult.name_key == key,
        )
    ):
        result.name, result.position = label, None
        result.name_key, result.name_search = tone_key(label), search_key(label)
        result.person_key = f"{person_key(label, None)}{result.id}"  # namesakes stay apart
        session.add(result)
    session.flush()
    return Erased(label, nominee_rows=len(rows))
