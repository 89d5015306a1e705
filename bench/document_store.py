"""Receives a 20 MB signed report through getFile and the file URL, and stores it by sha256.

The fake Bot API runs in the parent; the child downloads and stores, so its peak RSS shows
whether the document was streamed (a few MB above the baseline) or held whole (20+ MB).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

SIZE = 20 * 1024 * 1024 - 1024  # just under the Bot API's download limit
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


async def _fetch(base_url: str, file_url: str, token: str, file_id: str, dest: Path) -> int:
    from telegram import Bot

    from bot.channels.telegram.translate import TelegramFiles
    from bot.core.types import FileRef

    async with Bot(token, base_url=base_url, base_file_url=file_url) as bot:
        files = TelegramFiles(bot, asyncio.get_running_loop())
        ref = FileRef(file_id, "bao-cao.pdf", None, "application/pdf")
        return await asyncio.to_thread(files.fetch, ref, dest, max_bytes=SIZE + 1)


def child(base_url: str, file_url: str, token: str, file_id: str, folder: str) -> None:
    """Downloads and stores the document in this fresh process; prints time and memory."""
    # Loaded before the baseline: the module's code is not the download's memory.
    importlib.import_module("bot.channels.telegram.translate")
    from storage import files
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    upgrade(engine)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    dest = Path(folder) / "incoming"
    size = asyncio.run(_fetch(base_url, file_url, token, file_id, dest))
    downloaded = time.perf_counter() - started
    with session_for(engine) as session:
        stored = files.store_document(
            session=session, source=dest, root=Path(folder) / "files", now=NOW
        )
        session.commit()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert SIZE - 8192 < size <= SIZE and stored.size == size and stored.content_type == "pdf"
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "download": downloaded,
                "peak_mb": peak / 1024,
                "baseline_mb": baseline / 1024,
            }
        )
    )


def main() -> None:
    from tests.factories import pdf_bytes
    from tests.fake_telegram import FakeTelegram

    content = pdf_bytes(SIZE - 4096)  # a real PDF (its structure is checked), just under SIZE
    assert len(content) <= SIZE
    with FakeTelegram() as fake, tempfile.TemporaryDirectory() as folder:
        stored = fake.add_file(content, file_name="bao-cao.pdf", mime_type="application/pdf")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.document_store",
                "--child",
                fake.base_url,
                fake.file_url,
                fake.token,
                stored.file_id,
                folder,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    print(
        f"\nSigned report: {SIZE / 1048576:.1f} MB PDF, getFile + streamed download + sha256 store"
    )
    print("| time (s) | of which download (s) | peak RSS (MB) | RSS before (MB) |")
    print("|---|---|---|---|")
    print(
        f"| {figures['seconds']:.2f} | {figures['download']:.2f} | {figures['peak_mb']:.0f} |"
        f" {figures['baseline_mb']:.0f} |"
    )


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
