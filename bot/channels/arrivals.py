"""Deliveries arriving at once by webhook, stored in the inbox together (any channel)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Payload = dict[str, Any]  # a delivery as the platform sent it (its JSON), as the inbox keeps it
Store = Callable[[list[Payload]], Awaitable[None]]  # stores deliveries, raises if it cannot


class Arrivals:
    """Stores deliveries that arrive at once in one transaction (a group commit): each waits
    for the one storing its batch, and those arriving meanwhile form the next. Alone, one is
    stored at once; under a surge one commit serves dozens of webhook calls."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: list[tuple[Payload, asyncio.Future[None]]] = []
        self._storing: asyncio.Task[None] | None = None

    async def store(self, update: Payload) -> None:
        """Returns once the update is stored; raises what storing its batch raised."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((update, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting())
        await stored

    async def _store_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._store([update for update, _ in batch])
            except Exception as error:
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for _, stored in batch:
                if not stored.done():  # its caller may have gone (the connection dropped)
                    stored.set_result(None)
