"""Webhook workers on PostgreSQL under the surge: 1, 2 and 4 `thidua run` processes behind a
round-robin "proxy", every Bot API call answered 100 ms late.

Each worker is a real `thidua run` (web front, inbox, core, PostgreSQL) started with
THIDUA_WEB_PORT and THIDUA_PUBLIC_URL; the Bot API is bench/lean_bot_api.py in its own process.
Telegram's part is played here: every chat's "/menu" then "/help" (the second once the first
was acknowledged, as Telegram delivers one chat's updates), all chats at once, over at most 40
connections (Telegram's default ``max_connections``), spread over the workers in turn as a
reverse proxy would. Measured: from the start to each chat's last answer (p50/p99/max), the
updates per second, and from the database and the fake afterwards: updates lost (stored but
never handled, or never answered) and doubled (answered more than once).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from tests.factories import free_port

CHATS = int(os.environ.get("BENCH_CHATS", "1000"))
WORKERS = (1, 2, 4)
DELAY = 0.1
CONNECTIONS = 40  # Telegram's default for a webhook
TOKEN = "123456:WORKERS-token"
SECRET = "bench-s3cret"
ADMIN_URL = os.environ.get(
    "THIDUA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _database() -> str:
    """A fresh PostgreSQL database; its URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.engine import make_engine

    name = f"thidua_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.engine import make_engine

    admin = make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _no_reminders(url: str) -> None:
    """The chats take no reminders: the workers' scheduler would send them during the surge
    (the campaign's year-end report is due), and only answers are measured."""
    from sqlalchemy import text

    from storage.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE chat_link SET reachable = false"))
    engine.dispose()


def _worker(url: str, base: str, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    env.update(
        THIDUA_DATA_DIR=str(folder / str(port)), THIDUA_DATABASE_URL=url,
        THIDUA_TELEGRAM_TOKEN=TOKEN, THIDUA_TELEGRAM_API_URL=f"{base}/bot",
        THIDUA_TELEGRAM_FILE_URL=f"{base}/file/bot", THIDUA_WEB_PORT=str(port),
        THIDUA_PUBLIC_URL="https://thidua.example.vn", THIDUA_WEBHOOK_SECRET=SECRET,
    )  # fmt: skip
    log = (folder / f"{port}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, stdin=subprocess.DEVNULL,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process, port


def _ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"worker on {port} did not start")


async def _surge(ports: list[int], base: str) -> float:
    """Telegram's deliveries; returns the moment they began (monotonic)."""
    import aiohttp

    from bench.surge import update

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    turn = iter(range(10**9))
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def chat(n: int) -> None:
            for k, text in enumerate(("/menu", "/help")):
                port = ports[next(turn) % len(ports)]
                body = update(1 + n * 2 + k, 10_000 + n, text)
                url = f"http://127.0.0.1:{port}/telegram"
                while True:  # a 5xx is delivered again, as Telegram does
                    async with session.post(url, json=body, headers=headers) as response:
                        if response.status == 200:
                            break
                    await asyncio.sleep(1)

        began = time.monotonic()
        await asyncio.gather(*(chat(n) for n in range(CHATS)))
    return began


def _last(base: str) -> dict[str, list[float]]:
    with urllib.request.urlopen(f"{base}/last", timeout=10) as answer:
        return dict(json.loads(answer.read()))


def _run(workers: int) -> dict[str, float]:
    from sqlalchemy import text

    from bench.surge import world
    from storage.engine import make_engine

    server = subprocess.Popen(
        [sys.executable, "-m", "bench.lean_bot_api", str(DELAY)], stdout=subprocess.PIPE, text=True
    )
    url = _database()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        with tempfile.TemporaryDirectory() as folder:
            if os.environ.get("BENCH_KEEP"):  # the workers' logs kept for a look
                folder = tempfile.mkdtemp(prefix="bench-workers-")
            world(Path(folder), CHATS, url)
            _no_reminders(url)
            started = [_worker(url, base, Path(folder)) for _ in range(workers)]
            processes = [p for p, _ in started]
            for _, port in started:
                _ready(port)
            began = asyncio.run(_surge([port for _, port in started], base))
            deadline = time.monotonic() + 600
            while True:
                last = _last(base)
                if sum(1 for n, _t in last.values() if n >= 2) >= CHATS:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # anything doubled would have been sent by now
            last = _last(base)
            engine = make_engine(url)
            with engine.connect() as conn:
                stored, handled, answered = conn.execute(
                    text("SELECT count(*), count(done_at), count(answered_at) FROM inbox")
                ).one()
            engine.dispose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        server.terminate()
        server.wait(timeout=10)
        _drop(url)
    waits = sorted(t - began for _n, t in last.values())
    return {
        "p50": statistics.median(waits),
        "p99": waits[int(len(waits) * 0.99) - 1],
        "max": waits[-1],
        "rate": 2 * CHATS / waits[-1],
        "lost": 2 * CHATS - min(stored, handled, answered) + (CHATS - len(last)),
        "doubled": sum(max(0, n - 2) for n, _t in last.values()),
    }


def main() -> None:
    print(
        f"\nWebhook workers on PostgreSQL: {CHATS:,} chats × 2 updates at once, Bot API"
        f" {DELAY * 1000:.0f} ms away, {CONNECTIONS} webhook connections, round robin."
    )
    print("| workers | updates/s | p50 (s) | p99 (s) | max (s) | lost | doubled |")
    print("|---|---|---|---|---|---|---|")
    for workers in WORKERS if "--one" not in sys.argv else (1,):
        f = _run(workers)
        print(
            f"| {workers} | {f['rate']:,.0f} | {f['p50']:.2f} | {f['p99']:.2f} | {f['max']:.2f}"
            f" | {f['lost']:.0f} | {f['doubled']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
