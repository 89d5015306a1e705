"""Telegram's webhook on the service's web front: checked, stored in the inbox, then 200."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from bot.channels.arrivals import Arrivals, Store
from bot.channels.telegram.ordering import is_update
from bot.channels.telegram.translate import stats

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)


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
