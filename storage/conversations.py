"""Conversation state per chat, locked for the duration of one update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Conversation


def open_conversation(
    *, session: Session, channel: str, chat_id: str, now: datetime
) -> Conversation:
    """The chat's conversation, created on first contact; row-locked on PostgreSQL."""
    query = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        .with_for_update()
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(Conversation(channel=channel, chat_id=chat_id, updated_at=now))
    except IntegrityError:  # another worker created it first
        pass
    return session.exec(query).one()
