"""The token is never printed: not in a refusal at start, a traceback, or a log line."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.logs import RedactingStream
from tests.processes import child_env

TOKEN = "987654:AAH-very-secret-token"


class _NotFound(BaseHTTPRequestHandler):
    """A Bot API that knows no such token: Telegram answers 404 to every method then."""

    def do_POST(self) -> None:
        body = b'{"ok":false,"error_code":404,"description":"Not Found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _run(tmp_path: Path, api: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": child_env()["PYTHONPATH"],
        "THIDUA_TELEGRAM_TOKEN": TOKEN,
        "THIDUA_TELEGRAM_API_URL": f"{api}/bot",
        "THIDUA_TELEGRAM_FILE_URL": f"{api}/file/bot",
        "THIDUA_DATA_DIR": str(tmp_path / "data"),
        "THIDUA_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    return subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(['run']))"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def test_a_refused_token_is_one_clear_line_and_never_printed(
    tmp_path: Path, refusing_api: str
) -> None:
    done = _run(tmp_path, refusing_api)
    assert done.returncode == 2
    assert TOKEN not in done.stdout + done.stderr and "very-secret" not in done.stderr
    assert "Telegram từ chối mã bot" in done.stderr
    assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr


def test_whatever_is_written_to_a_guarded_stream_is_redacted(tmp_path: Path) -> None:
    target = (tmp_path / "err.txt").open("w", encoding="utf-8")
    stream = RedactingStream(target, [TOKEN])
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        import traceback

        traceback.print_exc(file=stream)
    stream.flush()
    text = (tmp_path / "err.txt").read_text()
    assert TOKEN not in text and "The token `[redacted]` was rejected" in text


def test_json_log_lines_are_json_and_redacted(tmp_path: Path) -> None:
    import json
    import logging

    from bot.logs import JsonFormatter

    formatter = JsonFormatter("%(message)s", [TOKEN])
    try:
        raise ValueError(f"bad {TOKEN}")
    except ValueError:
        record = logging.LogRecord(
            "bot.core", logging.ERROR, __file__, 1, "step failed for %s", (TOKEN,), sys.exc_info()
        )
    line = formatter.format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.core"
    assert entry["message"] == "step failed for [redacted]" and TOKEN not in line
    assert "ValueError: bad [redacted]" in entry["exception"] and "\n" not in line
