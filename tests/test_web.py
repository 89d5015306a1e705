"""The web front alone: the health check answers for the database, and routes are added."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.web import WebFront
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.factories import free_port


async def _get(url: str) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_health_is_200_with_the_database_and_503_without(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, web_port=free_port())
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
    away = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    down = WebFront(settings.model_copy(update={"web_port": free_port()}), away)
    await down.start()
    try:
        status, body = await _get(f"http://127.0.0.1:{down.port}/healthz")
        assert (status, body["database"]) == (503, "down")
    finally:
        await down.stop()


def test_the_proxy_from_the_environment_is_read_once_per_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiohttp's trust_env read the proxy variables and ~/.netrc again for every Bot API call."""
    from yarl import URL

    from bot.channels.telegram.transport import env_proxy

    env_proxy.cache_clear()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.kcn.local:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    telegram = URL("https://api.telegram.org")
    assert env_proxy(telegram) == (URL("http://proxy.kcn.local:3128"), None)
    assert env_proxy(URL("http://127.0.0.1:8081")) == (None, None)
    monkeypatch.delenv("HTTPS_PROXY")
    assert env_proxy(telegram)[0] is not None  # read once: kept for the process's life
    env_proxy.cache_clear()
    assert env_proxy(telegram) == (None, None)


async def test_metrics_show_what_was_handled_and_what_waits(tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from bot.compose import FLOWS
    from bot.core.engine import Core
    from bot.core.types import Incoming, Kind
    from storage import inbox
    from storage.engine import session_for
    from storage.models import Delivery
    from tests.conftest import NOW

    settings = Settings(data_dir=tmp_path, web_port=free_port())
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    core = Core(engine=engine, settings=settings, flows=FLOWS, clock=lambda: NOW)
    inbox.store(engine, "zalo", [("z1", "k1", {"text": "?"}), ("z2", "k2", {"text": "?"})], NOW)
    with session_for(engine) as session:
        for number, minutes in ((1, -5), (2, 30)):  # one due, one later
            session.add(Delivery(
                dedupe_key=f"d{number}", kind="reminder", channel="telegram", chat_id="9",
                not_before=NOW + timedelta(minutes=minutes), created_at=NOW,
            ))  # fmt: skip
        session.commit()

    Families = dict[str, dict[tuple[str, ...], float]]

    def counted(families: Families, name: str, *labels: str) -> float:
        return families.get(name, {}).get(labels, 0.0)

    async def scrape(port: int | None) -> Families:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain")
                text = await response.text()
        found: Families = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.setdefault(sample.name, {})[tuple(sample.labels.values())] = sample.value
        return found

    front = WebFront(settings, engine, lambda: NOW)
    await front.start()
    try:
        before = await scrape(front.port)
        asked = Incoming(channel="metrics-test", chat_id="1", kind=Kind.COMMAND, command="help")
        core.handle(asked)
        after = await scrape(front.port)
    finally:
        await front.stop()
    assert counted(after, "thidua_inbox_undone", "zalo") == 2
    assert counted(after, "thidua_outbox_pending", "telegram") == 2
    assert counted(after, "thidua_outbox_due", "telegram") == 1
    answered = ("metrics-test", "answered")
    assert counted(after, "thidua_updates_total", *answered) == (
        counted(before, "thidua_updates_total", *answered) + 1
    )
