"""Logging for the service: one format, quiet HTTP clients, and secrets never written."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """Replaces every secret (the bot token, the webhook secret) in the finished log line."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactingStream(io.TextIOBase):
    """stdout or stderr with the secrets replaced in whatever is written: a library's
    exception message ("The token `…` was rejected"), a traceback, a warning."""

    def __init__(self, stream: TextIO, secrets: Iterable[str]) -> None:
        self.stream = stream
        self.secrets = [s for s in secrets if s]

    def write(self, text: str) -> int:
        self.stream.write(redact(text, self.secrets))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding


def guard_streams(secrets: Iterable[str]) -> None:
    """Redacts the secrets from everything this process writes to stdout and stderr."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RedactingStream):
            stream.secrets = list({*stream.secrets, *secrets})
        else:
            setattr(sys, name, RedactingStream(stream, secrets))


class JsonFormatter(RedactingFormatter):
    """One JSON object per line (time, level, logger, message, exception), for log shippers;
    redacted like the text lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False), self.secrets)


def configure_logging(
    *, secrets: Iterable[str], level: int = logging.INFO, json_lines: bool = False
) -> None:
    """Sends logs to stderr through the redacting formatter (text, or JSON lines), stderr
    and stdout redacted too."""
    secrets = [s for s in secrets if s]
    guard_streams(secrets)
    handler = logging.StreamHandler(sys.stderr)
    form = JsonFormatter if json_lines else RedactingFormatter
    handler.setFormatter(form("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the Bot API URL contains the token.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
