"""Which chats act for which contact, and whether they can still be reached."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import ChatLink, Contact, Conversation, Role
from storage.outbox import Target
from storage.upsert import upsert

_LINK: Table = ChatLink.__table__  # type: ignore[attr-defined]
_LINK_CHAT = upsert(_LINK, ("channel", "chat_id"), ("contact_id", "reachable", "linked_at"))


def contact_for_chat(*, session: Session, channel: str, chat_id: str) -> Contact | None:
    """The contact this chat is linked to, if any."""
    query = (
        select(Contact)
        .join(ChatLink, col(ChatLink.contact_id) == col(Contact.id))
        .where(ChatLink.channel == channel, ChatLink.chat_id == chat_id)
    )
    return session.exec(query).first()


def link_chat(
    *, conn: Connection, contact_id: int, channel: str, chat_id: str, now: datetime
) -> None:
    """Links a chat to a contact, replacing whatever that chat was linked to before."""
    values = {"channel": channel, "chat_id": chat_id, "contact_id": contact_id}
    conn.execute(_LINK_CHAT.on(conn), {**values, "reachable": True, "linked_at": now})


def chat_links(*, session: Session, contact: Contact) -> list[ChatLink]:
    """Every chat of a contact."""
    return list(session.exec(select(ChatLink).where(ChatLink.contact_id == contact.id)))


def contacts_and_chats(
    *, session: Session, enterprise_ids: Collection[int]
) -> list[tuple[Contact, ChatLink | None]]:
    """The contacts of these enterprises, each with each of its chats (None: not linked)."""
    query = (
        select(Contact, ChatLink)
        .join(ChatLink, col(ChatLink.contact_id) == col(Contact.id), isouter=True)
        .where(col(Contact.enterprise_id).in_(list(enterprise_ids)), Contact.role == Role.CONTACT)
        .order_by(col(Contact.id), col(ChatLink.id))
    )
    return [(contact, link) for contact, link in session.exec(query)]


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


@dataclass(frozen=True)
class Recipient:
    """A reachable chat of an enterprise's contact."""

    enterprise_id: int
    contact_id: int
    link_id: int
    target: Target
    active_at: datetime | None = None  # the chat's last message, if it ever wrote


def reachable_chats(
    *, session: Session, enterprise_ids: Collection[int] | None = None
) -> list[Recipient]:
    """Every chat that can be reached of the contacts of these enterprises (None: of all)."""
    link, contact = _LINK.c, Contact.__table__.c  # type: ignore[attr-defined]
    chat = Conversation.__table__.c  # type: ignore[attr-defined]
    query = (  # plain columns: the planner reads every reachable chat each minute
        sa_select(
            contact.enterprise_id,
            contact.id,
            link.id,
            link.channel,
            link.chat_id,
            chat.updated_at,
        )
        .join_from(Contact.__table__, _LINK, link.contact_id == contact.id)  # type: ignore[attr-defined]
        .outerjoin(
            Conversation.__table__,  # type: ignore[attr-defined]
            (chat.channel == link.channel) & (chat.chat_id == link.chat_id),
        )
        .where(contact.role == Role.CONTACT.value, link.reachable.is_(True))
        .order_by(contact.enterprise_id, contact.id, link.id)
    )
    if enterprise_ids is not None:
        query = query.where(contact.enterprise_id.in_(list(enterprise_ids)))
    return [
        Recipient(enterprise, contact_id, link_id, Target(channel, chat_id), active)
        for enterprise, contact_id, link_id, channel, chat_id, active in session.execute(query)
        if enterprise is not None
    ]


def one_chat_each(recipients: Iterable[Recipient]) -> list[Recipient]:
    """Each person's most recently active chat (else the newest link): a reminder is for a
    person, not for every chat they linked."""
    chosen: dict[int, Recipient] = {}
    for recipient in recipients:
        held = chosen.get(recipient.contact_id)
        if held is None or _recency(recipient) > _recency(held):
            chosen[recipient.contact_id] = recipient
    return list(chosen.values())


def _recency(recipient: Recipient) -> tuple[datetime, int]:
    """How recently a chat was used: its last message, then how new its link is."""
    return (recipient.active_at or datetime.min.replace(tzinfo=UTC), recipient.link_id)
