"""Which chats act for which contact, and whether they can still be reached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import ChatLink, Contact


def contact_for_chat(*, session: Session, channel: str, chat_id: str) -> Contact | None:
    """The contact this chat is linked to, if any."""
    query = (
        select(Contact)
        .join(ChatLink, col(ChatLink.contact_id) == col(Contact.id))
        .where(ChatLink.channel == channel, ChatLink.chat_id == chat_id)
    )
    return session.exec(query).first()


def link_chat(
    *, session: Session, contact: Contact, channel: str, chat_id: str, now: datetime
) -> ChatLink:
    """Links a chat to a contact, replacing whatever that chat was linked to before."""
    link = session.exec(
        select(ChatLink).where(ChatLink.channel == channel, ChatLink.chat_id == chat_id)
    ).first()
    assert contact.id is not None
    if link is None:
        link = ChatLink(contact_id=contact.id, channel=channel, chat_id=chat_id, linked_at=now)
        session.add(link)
    else:
        link.contact_id, link.reachable, link.linked_at = contact.id, True, now
    session.flush()
    return link


def chat_links(*, session: Session, contact: Contact) -> list[ChatLink]:
    """Every chat of a contact."""
    return list(session.exec(select(ChatLink).where(ChatLink.contact_id == contact.id)))


def linked_contact_ids(*, session: Session) -> set[int]:
    """Contacts with at least one chat, for lists and exports."""
    return set(session.exec(select(ChatLink.contact_id).distinct()))


def mark_unreachable(*, session: Session, channel: str, chat_id: str) -> bool:
    """Records that a chat blocked the bot; True when it was reachable until now."""
    result = session.execute(
        update(ChatLink)
        .where(
            col(ChatLink.channel) == channel,
            col(ChatLink.chat_id) == chat_id,
            col(ChatLink.reachable).is_(True),
        )
        .values(reachable=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
