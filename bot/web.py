"""The service's one HTTP server (aiohttp): channels' webhooks, the health check, the metrics,
and later the file links; started by ``thidua run`` when THIDUA_WEB_PORT is set."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.metrics import exposition
from bot.settings import Settings
from storage.types import utcnow

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # bytes: a webhook's update is a few kilobytes; more is refused (413)
HEALTH_TIMEOUT = 5.0  # seconds the database has to answer the health check
STOP_WAIT = 5.0  # seconds requests in flight have to finish at stop
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebFront:
    """Routes are added by the channels before ``start``; ``/healthz`` is always there."""

    def __init__(
        self, settings: Settings, engine: Engine, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._health)
        self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Registers a route (a channel's webhook, a file link)."""
        self.app.router.add_route(method, path, handler)

    @property
    def port(self) -> int | None:
        """The port listened on (the configured one, or the one given for port 0)."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Listens on THIDUA_WEB_LISTEN:THIDUA_WEB_PORT."""
        assert self.settings.web_port is not None
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=STOP_WAIT)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.settings.web_listen, self.settings.web_port)
        await site.start()
        log.info("web front on %s:%s", self.settings.web_listen, self.port)

    async def stop(self) -> None:
        """Stops listening; requests in flight get STOP_WAIT seconds to finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        """200 when the database answers within HEALTH_TIMEOUT, 503 otherwise."""
        try:
            await asyncio.wait_for(asyncio.to_thread(self._ping), HEALTH_TIMEOUT)
        except Exception as error:
            log.warning("health check: the database does not answer: %r", error)
            return web.json_response({"status": "unavailable", "database": "down"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def _metrics(self, request: web.Request) -> web.Response:
        """Prometheus' text format: this process's counters and the database's depths (503
        when the database does not answer within HEALTH_TIMEOUT)."""
        try:
            body = await asyncio.wait_for(
                asyncio.to_thread(exposition, self.engine, self.clock()), HEALTH_TIMEOUT
            )
        except Exception as error:
            log.warning("metrics: the database does not answer: %r", error)
            return web.Response(status=503, text="database unavailable\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _ping(self) -> None:
        """One round trip to the database."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
