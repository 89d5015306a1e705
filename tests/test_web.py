"""The web front alone: the health check answers for the database, and routes are added."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.web import WebFront
from storage.engine import make_engine
from storage.migrate import upgrade


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(url: str) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_health_is_200_with_the_database_and_503_without(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, web_port=_free_port())
    engine = make_engine(f"sqlite:///{tmp_path / 'up.sqlite3'}")
    upgrade(engine)
    up = WebFront(settings, engine)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="xin chào")

    up.add("GET", "/hello", hello)
    await up.start()
    try:
        base = f"http://127.0.0.1:{up.port}"
        assert await _get(f"{base}/healthz") == (200, {"status": "ok", "database": "ok"})
        async with aiohttp.ClientSession() as session, session.get(f"{base}/hello") as response:
            assert await response.text() == "xin chào"
    finally:
        await up.stop()
    away = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/none")
    down = WebFront(settings.model_copy(update={"web_port": _free_port()}), away)
    await down.start()
    try:
        status, body = await _get(f"http://127.0.0.1:{down.port}/healthz")
        assert (status, body["database"]) == (503, "down")
    finally:
        await down.stop()
