"""Telegram's webhook on the service's web front: checked, stored in the inbox, then 200."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.telegram.ordering import Payload, is_update
from bot.channels.telegram.translate import stats

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)
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


class Webhook:
    """Telegram's webhook on the web front: the secret checked in constant time, the update
    stored in the inbox, then 200; anything that cannot be stored gets 503 and comes again."""

    def __init__(self, secret: str, store: Store) -> None:
        self.secret = secret.encode()
        self.arrivals = Arrivals(store)

    async def receive(self, request: web.Request) -> web.Response:
        """One delivery; its body is capped by the web front (413 beyond)."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.secret):
            stats["webhook_refused"] += 1
            return web.Response(status=403)
        try:
            update = await request.json()
            if not is_update(update):
                raise ValueError("not an update")
        except web.HTTPException:
            raise
        except Exception as error:
            log.warning("webhook: unreadable update refused: %r", error)
            return web.Response(status=400)
        try:
            await self.arrivals.store(update)
        except Exception as error:  # the database away: Telegram delivers it again later
            log.warning("webhook: update %s not stored: %r", update["update_id"], error)
            return web.Response(status=503)
        return web.Response(status=200)
