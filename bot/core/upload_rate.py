"""How many files one chat may send in a minute: a few, so one chat cannot keep the readers busy.

Counted by file, not by delivery: the same file delivered twice, or asked about first by the
download ahead of the turn and then by the turn itself, is one file.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

WINDOW = 60.0  # seconds


@dataclass(frozen=True)
class Verdict:
    """Whether a file is taken; when not, how many were taken and when one may come again."""

    taken: bool
    recent: int = 0
    wait: int = 0  # seconds


class UploadRate:
    """A sliding window of the files each chat sent (per process; a worker counts its own)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._taken: dict[tuple[str, str], deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def admit(self, channel: str, chat_id: str, file_id: str, now: float) -> Verdict:
        """Takes the file if the chat sent fewer than ``per_minute`` others in the last minute."""
        with self._lock:
            taken = self._taken.setdefault((channel, chat_id), deque())
            while taken and taken[0][0] <= now - WINDOW:
                taken.popleft()
            if any(known == file_id for _at, known in taken):
                return Verdict(True)
            if len(taken) >= self.per_minute:
                return Verdict(False, len(taken), max(1, round(taken[0][0] + WINDOW - now)))
            taken.append((now, file_id))
            if len(self._taken) > 10_000:  # chats gone quiet: forget them
                self._forget(now)
            return Verdict(True)

    def _forget(self, now: float) -> None:
        for key in [k for k, q in self._taken.items() if not q or q[-1][0] <= now - WINDOW]:
            del self._taken[key]
