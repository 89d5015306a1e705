"""Deadline day: many chats write at the same moment and every Bot API call is answered 100 ms late.

The Telegram channel as the service runs it (our long polling through the durable inbox, the
PTB Application, the core, SQLite), and the Bot API a lean fake in its own process
(bench/lean_bot_api.py) that answers each call after the delay, as a server in Vietnam would
reach Telegram. Every chat is linked to a contact and has talked with the bot before (its
invitation code was typed there). Each sends "/menu" (the issue's goal counts one update per
chat), or "/menu" then "/help", all chats within the same instant, pushed to the fake's
getUpdates. The service has answered 20 other chats first, as one that has been running on
deadline day has; the "cold" variant skips that. Measured per chat: from the push to its last
answer, on the monotonic clock both processes share; and the process's CPU per update.
Variants: as the service runs now (chats at once, each in order) by long polling or by the
webhook, and one update at a time with one core thread (how it ran before), for comparison.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = (  # chats, processing, updates per chat
    (200, "polling", 1), (1000, "polling", 1), (200, "webhook", 1), (1000, "webhook", 1),
    (200, "cold", 1), (1000, "cold", 1),
    (200, "polling", 2), (1000, "polling", 2), (200, "webhook", 2), (1000, "webhook", 2),
    (200, "serial", 1), (200, "serial", 2),
)  # fmt: skip
DELAY = 0.1  # seconds every Bot API call takes
TOKEN = "123456:SURGE-token"
WARM = 20  # chats answered before the surge: the service has been running, as on deadline day
TEXTS = ("/menu", "/help")  # a chat's updates, in order: the first one or both


def world(folder: Path, chats: int, url: str | None = None) -> None:
    """A campaign, one enterprise and its contact, linked from every chat of the surge (in a
    SQLite file in ``folder``, or the database at ``url``)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from storage import campaigns, conversations, links, registry
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade
    from tests.factories import valid_tax_codes

    now = datetime.now(UTC)
    engine = make_engine(url or f"sqlite:///{folder / 'thidua.sqlite3'}")
    upgrade(engine)
    with session_for(engine) as session:
        campaigns.create_campaign(
            session=session, year=now.year, board_name="Ban", now=now,
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
        )  # fmt: skip
        enterprise = registry.add_enterprise(
            session=session, tax_code=valid_tax_codes(1)[0], name="Công ty TNHH Hoà Bình", now=now
        )
        contact = registry.add_contact(
            session=session, full_name="Nguyễn Thị Hoà", enterprise=enterprise, now=now
        )
        assert contact.id is not None
        conn = session.connection()
        for chat in [*range(chats), *range(-WARM, 0)]:  # the surge's chats, the warm-up's
            # a linked chat has talked with the bot before: its invitation code was typed there
            conversations.open_chat(
                conn=conn, channel="telegram", chat_id=str(10_000 + chat), now=now
            )
            links.link_chat(
                conn=conn, contact_id=contact.id, channel="telegram", chat_id=str(10_000 + chat),
                now=now,
            )  # fmt: skip
        session.commit()
    engine.dispose()


def update(number: int, chat: int, text: str) -> dict[str, object]:
    """A private chat's message as Telegram sends it (a command)."""
    user = {"id": chat, "is_bot": False, "first_name": "An", "language_code": "vi"}
    message = {
        "message_id": number,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "An"},
        "from": user,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
    }
    return {"update_id": number, "message": message}


def child(base: str, folder: str, chats: str, variant: str, per_chat: str) -> None:
    """Runs one surge in this fresh process; prints the latencies' summary as JSON."""
    import httpx

    from bot.channels.telegram.application import TelegramChannel
    from bot.compose import build_core
    from bot.settings import Settings
    from bot.settle import settle
    from bot.web import WebFront
    from storage.engine import make_engine

    count = int(chats)
    texts = TEXTS[: int(per_chat)]
    serial = variant == "serial"
    cold = variant == "cold"
    hooked = variant == "webhook"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(folder) / "data",
        database_url=f"sqlite:///{Path(folder) / 'thidua.sqlite3'}",  # the world world() built
        telegram_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=f"{base}/bot",
        telegram_file_url=f"{base}/file/bot",
        core_threads=1 if serial else Settings().core_threads,
        concurrent_chats=1 if serial else Settings().concurrent_chats,
        poll_timeout=10,
        web_port=0 if hooked else None,  # any free port
        public_url="https://thidua.example.vn" if hooked else None,  # registered with the fake
    )
    engine = make_engine(settings.db_url)
    web = WebFront(settings, engine) if hooked else None
    channel = TelegramChannel(settings, build_core(settings, engine), web=web)

    async def run() -> dict[str, object]:
        settle()  # as the service does once built, before it receives anything
        if web is not None:
            await web.start()
        await channel.start()
        updates = [
            update(1 + number, 10_000 - WARM + chat, text)
            for number, (chat, text) in enumerate(
                (chat, text) for chat in range(WARM + count) for text in texts
            )
        ]
        warm, updates = updates[: WARM * len(texts)], updates[WARM * len(texts) :]

        async def deliver(client: httpx.AsyncClient, batch: list[dict[str, object]]) -> None:
            if web is None:
                await client.post(f"{base}/push", json=batch)  # all at once
            else:  # Telegram's webhook: 40 connections, one update in flight on each
                hook = {
                    "url": f"http://127.0.0.1:{web.port}/{settings.webhook_path}",
                    "secret": settings.telegram_webhook_secret,
                    "connections": 40,
                    "updates": batch,
                }
                await client.post(f"{base}/pushhook", json=hook)

        async with httpx.AsyncClient(timeout=60) as client:
            # a few chats first, answered before the surge: what a service pays once per start
            # (the first statements' compiling, caches filling) is not deadline day's figure
            if not cold:
                await deliver(client, warm)
                began = time.monotonic()
                while int((await client.get(f"{base}/done?n={len(texts)}")).text) < WARM:
                    if time.monotonic() - began > 60:
                        raise TimeoutError("the warm-up chats were not answered")
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)
            cpu = time.process_time()  # this process's CPU, all its threads
            arrived = time.monotonic()
            await deliver(client, updates)
            while True:  # asks how many are done, seldom: the times come from the fake's record
                await asyncio.sleep(0.25)
                answered = int((await client.get(f"{base}/done?n={len(texts)}")).text)
                if answered >= count + (0 if cold else WARM):
                    break
                if time.monotonic() - arrived > 300:
                    raise TimeoutError(f"{answered} of {count} chats answered")
            cpu = time.process_time() - cpu
            done = (await client.get(f"{base}/last")).json()  # the answers' times, once
        await channel.stop()
        await channel.close()
        if web is not None:
            await web.stop()
        waits = sorted(t - arrived for chat, (_n, t) in done.items() if int(chat) >= 10_000)
        return {
            "p50": statistics.median(waits),
            "p99": waits[int(len(waits) * 0.99) - 1],
            "max": waits[-1],
            "chats": len(waits),
            "cpu_ms": cpu * 1000 / (count * len(texts)),  # per update, measuring included
        }

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    print(
        f"\nSurge: chats writing at the same moment, every Bot API call answered {DELAY * 1000:.0f}"
        " ms late; from a chat's first update to its last answer (/menu, or /menu then /help);"
        " SQLite."
    )
    print("Goal: p99 ≤ 0.5 s at 200 chats, ≤ 2 s at 1,000 (floor: one round trip per answer).")
    print(
        "| chats | updates per chat | processing | p50 (s) | p99 (s) | max (s)"
        " | CPU per update (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for chats, variant, per_chat in CASES:
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.lean_bot_api", str(DELAY)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            base = f"http://127.0.0.1:{int(server.stdout.readline())}"
            with tempfile.TemporaryDirectory() as folder:
                world(Path(folder), chats)
                out = subprocess.run(
                    [sys.executable, "-m", "bench.surge", "--child", base, folder, str(chats),
                     variant, str(per_chat)],
                    check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
            figures = json.loads(out.strip().splitlines()[-1])
            label = {
                "polling": "chats at once, each in order (now), long polling",
                "webhook": "the same, Telegram's webhook on the web front (40 connections)",
                "cold": "long polling, the surge the first thing after a start (no warm-up)",
                "serial": "one update at a time (the processing before; transport as now)",
            }[variant]
            print(
                f"| {chats:,} | {per_chat} | {label} | {figures['p50']:.2f} |"
                f" {figures['p99']:.2f} | {figures['max']:.2f} | {figures['cpu_ms']:.2f} |"
            )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
