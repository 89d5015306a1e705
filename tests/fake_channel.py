"""A channel double for flow tests: push inputs, pop the replies, fetch files from memory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.compose import build_core
from bot.core.engine import Core
from bot.core.types import FileRef, FileTooLarge, Incoming, Kind, OutFile, Reply, Result
from bot.settings import Settings

_ids = itertools.count(1)


class MemoryFiles:
    """File port over an in-memory store, enforcing the size limit before "downloading"."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}
        self.fetched: list[str] = []

    def add(self, content: bytes) -> str:
        file_id = f"file-{next(_ids)}"
        self.store[file_id] = content
        return file_id

    def fetch(self, file: FileRef, dest: Path, *, max_bytes: int) -> int:
        if file.size is None or file.size > max_bytes:
            raise FileTooLarge(file.size, max_bytes)
        self.fetched.append(file.file_id)
        dest.write_bytes(self.store[file.file_id])
        return file.size


class FakeChat:
    """One person in one chat, talking to a Core the way a channel adapter would."""

    def __init__(
        self,
        core: Core,
        chat_id: str = "100",
        *,
        channel: str = "fake",
        user_name: str = "Nguyễn Thị Hoà",
        language_code: str | None = "vi",
    ) -> None:
        self.core = core
        self.chat_id = chat_id
        self.channel = channel
        self.user_name = user_name
        self.language_code = language_code
        self.files = MemoryFiles()
        self.last: Result = Result()
        self.history: list[Reply] = []

    def _send(self, **fields: object) -> list[Reply]:
        incoming = Incoming(
            channel=self.channel,
            chat_id=self.chat_id,
            user_name=self.user_name,
            language_code=self.language_code,
            **fields,  # type: ignore[arg-type]
        )
        self.last = self.core.handle(incoming, files=self.files)
        for aside in self.last.aside:  # a channel runs the long work after the answer
            done = self.core.run_aside(self.channel, self.chat_id, aside, self.last.language)
            self.last.replies.append(done)
        self.history.extend(self.last.replies)
        return self.last.replies

    def text(self, text: str, **extra: object) -> list[Reply]:
        return self._send(kind=Kind.TEXT, text=text, **extra)

    def command(self, line: str, **extra: object) -> list[Reply]:
        name, _, args = line.lstrip("/").partition(" ")
        return self._send(kind=Kind.COMMAND, text=line, command=name, args=args, **extra)

    def press(self, label: str, *, reply: Reply | None = None) -> list[Reply]:
        """Presses the button whose label contains ``label`` on the given (default: last) reply."""
        replies = [reply] if reply else [r for r in reversed(self.history) if r.choices]
        for candidate in replies:
            for choice in candidate.choices:
                if label in choice.label:
                    return self._send(kind=Kind.CHOICE, choice=choice.token)
        raise AssertionError(
            f"no button {label!r} in {[c.label for r in replies for c in r.choices]}"
        )

    def token(self, label: str) -> str:
        for reply in reversed(self.history):
            for choice in reply.choices:
                if label in choice.label:
                    return choice.token
        raise AssertionError(label)

    def send_file(self, content: bytes, name: str, *, size: int | None = None) -> list[Reply]:
        file_id = self.files.add(content)
        ref = FileRef(file_id, name, len(content) if size is None else size, None)
        return self._send(kind=Kind.FILE, file=ref)

    def other(self) -> list[Reply]:
        return self._send(kind=Kind.OTHER)

    @property
    def sent_file(self) -> OutFile | None:
        """The file of the last answer (long work's result comes after the words)."""
        return next((r.file for r in self.last.replies if r.file is not None), None)

    @property
    def said(self) -> str:
        """Every text of the last answer, joined."""
        return "\n".join(r.text for r in self.last.replies)


def make_core(
    engine: Engine, tmp_path: Path, clock: Callable[[], datetime], **settings: object
) -> Core:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "board_contact": "0222 3 888 888"}
    values.update(settings)
    return build_core(Settings(**values), engine, clock)  # type: ignore[arg-type]


def board_contact_stranger(
    core: Core, codes: dict[str, str]
) -> tuple[FakeChat, FakeChat, FakeChat]:
    """Chats b1 and c1 linked with the seeded board's and contact's codes, and s1 linked to no
    one: who may and who may not, side by side."""
    chats = []
    for chat_id, role in (("b1", "board"), ("c1", "contact"), ("s1", None)):
        chat = FakeChat(core, chat_id)
        if role:
            chat.command(f"/start {codes[role]}")
            chat.press("Đồng ý")
        chats.append(chat)
    return chats[0], chats[1], chats[2]
