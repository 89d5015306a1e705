"""The board asks for the 2,000-enterprise × 50-nominee registration list while 200 contacts
write at the same moment: do the contacts wait for the export?

The service's real path as in bench/surge.py (our polling through the inbox, the core, SQLite),
the Bot API bench/lean_bot_api.py answering every call 100 ms late. The board's chat sends
/lists (which also warms the service, as one running on deadline day is) and, in the runs with
the export, presses "registrations"; once the export is running (aside, in a worker process),
200 chats that have talked with the bot before send /menu (one update each, as the surge's goal
counts), or /menu and /help. Measured: the chats' p50 / p99 / max from the push to their last
answer, with and without the export running, and how long the export took.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CHATS = 200
BOARD_CHAT = 9
DELAY = 0.1
TOKEN = "123456:EXPORT-token"


def prepare(folder: Path) -> None:
    """bench/export_lists.py's world, a board member's chat, and 200 contacts' chats."""
    from bench.export_lists import build
    from storage import conversations, links, registry
    from storage.engine import make_engine, session_for
    from storage.models import Role

    build(folder)
    now = datetime.now(UTC)
    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    with session_for(engine) as session:
        board = registry.add_contact(
            session=session, full_name="Lê Văn Ban", now=now, role=Role.BOARD
        )
        enterprise = registry.list_enterprises(session=session)[0][0]
        contact = registry.add_contact(
            session=session, full_name="Nguyễn Thị Hoà", enterprise=enterprise, now=now
        )
        assert board.id is not None and contact.id is not None
        conn = session.connection()
        links.link_chat(conn=conn, contact_id=board.id, channel="telegram",
                        chat_id=str(BOARD_CHAT), now=now)  # fmt: skip
        for chat in range(CHATS):  # each typed its invitation code there before
            conversations.open_chat(
                conn=conn, channel="telegram", chat_id=str(10_000 + chat), now=now
            )
            links.link_chat(conn=conn, contact_id=contact.id, channel="telegram",
                            chat_id=str(10_000 + chat), now=now)  # fmt: skip
        session.commit()
    engine.dispose()


def _press(number: int, chat: int, data: str) -> dict[str, object]:
    user = {"id": chat, "is_bot": False, "first_name": "Ban", "language_code": "vi"}
    message = {"message_id": 1, "date": int(time.time()), "text": "?",
               "chat": {"id": chat, "type": "private", "first_name": "Ban"}}  # fmt: skip
    query = {
        "id": str(number),
        "from": user,
        "message": message,
        "chat_instance": "1",
        "data": data,
    }
    return {"update_id": number, "callback_query": query}


def child(base: str, folder: str, with_export: str, per_chat: str) -> None:
    """One run in this fresh process; prints the figures as JSON."""
    import logging

    import httpx
    from sqlalchemy import text

    logging.basicConfig(level=logging.WARNING)  # the parent shows it if the run fails

    from bench.surge import update
    from bot.channels.telegram.application import TelegramChannel
    from bot.compose import build_core
    from bot.settings import Settings
    from bot.settle import settle
    from storage.engine import make_engine

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(folder) / "data",
        database_url=f"sqlite:///{folder}/bench.sqlite3",
        telegram_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=f"{base}/bot",
        telegram_file_url=f"{base}/file/bot",
        poll_timeout=10,
    )
    engine = make_engine(settings.db_url)
    core = build_core(settings, engine)
    channel = TelegramChannel(settings, core)

    async def run() -> dict[str, object]:
        settle()  # as the service does once built, before it receives anything
        await channel.start()
        texts = ("/menu", "/help")[: int(per_chat)]
        export_began = None
        async with httpx.AsyncClient(timeout=60) as client:

            async def answers(chat: int) -> int:
                done = (await client.get(f"{base}/last")).json()
                return int(done.get(str(chat), [0])[0])

            await client.post(f"{base}/push", json=[update(1, BOARD_CHAT, "/lists")])
            while await answers(BOARD_CHAT) < 1:
                await asyncio.sleep(0.05)
            if with_export == "yes":
                with engine.connect() as conn:
                    version = conn.execute(
                        text("SELECT version FROM conversation WHERE chat_id = :c"),
                        {"c": str(BOARD_CHAT)},
                    ).scalar_one()
                await client.post(
                    f"{base}/push", json=[_press(2, BOARD_CHAT, f"{version}:registrations")]
                )
                waited = time.monotonic()
                while not core._busy("telegram", str(BOARD_CHAT)):  # the export has begun
                    if time.monotonic() - waited > 30:
                        raise TimeoutError("the export did not begin")
                    await asyncio.sleep(0.01)
                export_began = time.monotonic()
            updates = [
                update(100 + n * 2 + k, 10_000 + n, text)
                for n in range(CHATS)
                for k, text in enumerate(texts)
            ]
            arrived = time.monotonic()
            await client.post(f"{base}/push", json=updates)
            while True:
                await asyncio.sleep(0.05)
                done = (await client.get(f"{base}/last")).json()
                if (
                    sum(
                        1 for c, (n, _t) in done.items() if c != str(BOARD_CHAT) and n >= len(texts)
                    )
                    >= CHATS
                ):
                    break
            surge_ended = time.monotonic()
            while export_began is not None and core._busy("telegram", str(BOARD_CHAT)):
                await asyncio.sleep(0.05)
            export_ended = time.monotonic()
        await channel.stop()
        await channel.close()
        waits = sorted(t - arrived for c, (_n, t) in done.items() if c != str(BOARD_CHAT))
        return {
            "p50": statistics.median(waits),
            "p99": waits[int(len(waits) * 0.99) - 1],
            "max": waits[-1],
            "export": (export_ended - export_began) if export_began else None,
            "overlapped": export_began is not None and export_ended > surge_ended,
        }

    print(json.dumps(asyncio.run(run())))


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, its write-ahead log included."""
    for leftover in (f"{target.name}-wal", f"{target.name}-shm"):
        (target.parent / leftover).unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def main() -> None:
    print(
        f"\nExport during a surge: {CHATS} chats write while the board's 2,000 × 50 registration"
        f" list is built; Bot API {DELAY * 1000:.0f} ms away; SQLite. Goal: the chats' p99 ≤ 1 s."
    )
    print(
        "| updates per chat | export running | chats' p50 (s) | p99 (s) | max (s)"
        " | export took (s) |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        prepare(Path(folder))
        db, pristine = Path(folder) / "bench.sqlite3", Path(folder) / "pristine.sqlite3"
        _copy(db, pristine)
        for per_chat, with_export in ((1, "no"), (1, "yes"), (2, "no"), (2, "yes")):
            _copy(pristine, db)  # each run on a fresh world
            server = subprocess.Popen(
                [sys.executable, "-m", "bench.lean_bot_api", str(DELAY)],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert server.stdout is not None
                base = f"http://127.0.0.1:{int(server.stdout.readline())}"
                run = subprocess.run(
                    [sys.executable, "-m", "bench.export_surge", "--child", base, folder,
                     with_export, str(per_chat)],
                    capture_output=True, text=True, timeout=600,
                )  # fmt: skip
                if run.returncode != 0:
                    raise RuntimeError(run.stderr[-3000:])
                out = run.stdout
            finally:
                server.terminate()
                server.wait(timeout=10)
            f = json.loads(out.strip().splitlines()[-1])
            took = f"{f['export']:.1f}" if f["export"] else "—"
            if f["export"] and not f["overlapped"]:
                took += " (ended before the chats were answered)"
            print(
                f"| {per_chat} | {with_export} | {f['p50']:.2f} | {f['p99']:.2f} | {f['max']:.2f}"
                f" | {took} |"
            )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
