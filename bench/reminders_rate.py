"""Reminder fan-out: the achieved rate with the cap lifted (1,000/s) and at the default cap.

A lean fake Bot API (bench/lean_bot_api.py) runs in its own process; the dispatcher (planner,
renderer, pacing, outcome writes to SQLite) in a fresh child process, through the real Telegram
send port (PTB Bot over HTTP).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ((10_000, 1000.0), (600, 25.0))  # (reminders, messages/s cap)


def child(base_url: str, file_url: str, token: str, folder: str, rate: str) -> None:
    """Plans and sends everything due, at ``rate``; prints the figures."""
    from bot.compose import App
    from bot.settings import Settings
    from storage.types import utcnow

    settings = Settings(
        data_dir=Path(folder),
        telegram_token=token,  # type: ignore[arg-type]
        telegram_api_url=base_url,
        telegram_file_url=file_url,
        reminder_rate=float(rate),
    )
    app = App(settings)  # as `thidua run` builds it: the channel's port, the service

    async def run() -> dict[str, float]:
        channels = app.channels(app.core(), on_board_notice=lambda: None)
        service = app.reminder_service({channel.name: channel.port for channel in channels})
        try:
            planned = time.perf_counter()
            await asyncio.to_thread(service.plan, utcnow())
            started = time.perf_counter()
            stats = await service.run_once()
            elapsed = time.perf_counter() - started
        finally:
            for channel in channels:
                await channel.stop()
                await channel.close()
        return {"sent": stats.sent, "seconds": elapsed, "plan_seconds": started - planned}

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    from tests.reminder_world import build

    token = "123456:BENCH-token"
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.lean_bot_api"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        print(
            "\nReminders through the real Telegram send port to a lean fake Bot API (SQLite outbox)"
        )
        print("| reminders | cap (msg/s) | sent | time (s) | achieved (msg/s) | of the cap |")
        print("|---|---|---|---|---|---|")
        for count, rate in CASES:
            with tempfile.TemporaryDirectory() as folder:
                build(Path(folder), count)
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.reminders_rate",
                        "--child",
                        f"{base}/bot",
                        f"{base}/file/bot",
                        token,
                        folder,
                        str(rate),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            achieved = figures["sent"] / figures["seconds"]
            print(
                f"| {count:,} | {rate:,.0f} | {figures['sent']:,} | {figures['seconds']:.2f} |"
                f" {achieved:,.0f} | {achieved / rate:.3f} |"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
