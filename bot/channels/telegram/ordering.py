"""Updates of different chats at once, one chat's updates one after another in arrival order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import BaseUpdateProcessor

from bot.channels.arrivals import Payload

WAITING_LIMIT = 100_000  # updates PTB lets into the processor; the real bound is ``limit``


@dataclass(eq=False)
class Stored:
    """A chat has deliveries in the inbox: queued instead of the updates themselves, so that
    its handler takes them from the inbox in order of arrival. ``updates`` are those that came
    while it waited (one marker per chat is enough): their documents fetched ahead, and
    apologised to if the database is away."""

    chat_id: str
    updates: list[Payload] = field(default_factory=list)
    arrived: float = field(default_factory=time.monotonic)  # when the first of them came


def is_update(update: object) -> bool:
    """An update as the Bot API documents it: an object with its integer id (what getUpdates
    and the webhook are checked for before anything is stored)."""
    return isinstance(update, dict) and isinstance(update.get("update_id"), int)


@dataclass(eq=False)
class Delivery:
    """One update handed to the Application directly, not through the inbox (benchmarks)."""

    payload: Payload


def chat_of(update: Payload) -> str:
    """The chat an update belongs to, as PTB's ``effective_chat`` finds it: the chat of the
    message a button was under, else of whatever the update carries ("" for none, e.g. an
    inline query)."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        return _id_of((query.get("message") or {}).get("chat"))
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("chat"), dict):
            return _id_of(value["chat"])
    return ""


def _id_of(chat: object) -> str:
    """A chat's id as the inbox keys it ("" for a chat without one)."""
    return str(chat["id"]) if isinstance(chat, dict) and "id" in chat else ""


def chat_key(update: object) -> str | None:
    """The chat a Stored marker or a Delivery belongs to, if any."""
    if isinstance(update, Stored):
        return update.chat_id or None
    if isinstance(update, Delivery):
        return chat_of(update.payload) or None
    return None


class ChatOrder(BaseUpdateProcessor):
    """PTB's update processor keyed by chat.

    An update first waits for the updates of its chat that arrived before it (asyncio's locks
    wake waiters first come, first served), then for one of ``limit`` slots: a chat with fifty
    queued updates holds one slot, not fifty. Updates without a chat take a slot only.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(max_concurrent_updates=WAITING_LIMIT)
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._chats: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, updates holding or waiting

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handles the update once its chat's earlier updates are done and a slot is free."""
        chat = chat_key(update)
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._chats.get(chat) or (asyncio.Lock(), 0)
        self._chats[chat] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._chats[chat]
            if users == 1:
                del self._chats[chat]  # the last one of this chat: nothing kept per chat
            else:
                self._chats[chat] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB waits for the updates in hand before calling this."""
