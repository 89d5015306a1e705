"""The terminal channel: the same conversation in a shell, choices as numbers, files by path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.core.engine import Core
from bot.core.types import FileRef, FileTooLarge, Incoming, Kind, Reply
from bot.i18n import _, use_language
from scheduler.dispatcher import Outcome, Outgoing, SendResult

CHANNEL = "terminal"


def parse_line(line: str, *, chat_id: str, user_name: str, language: str) -> Incoming | None:
    """Reads one typed line: /command args, @path/to/file, or text (a number picks a choice)."""
    text = line.strip()
    if not text:
        return None
    base = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "user_name": user_name,
        "language_code": language,
    }
    if text.startswith("/"):
        name, _sep, args = text[1:].partition(" ")
        return Incoming(kind=Kind.COMMAND, text=text, command=name.lower(), args=args, **base)  # type: ignore[arg-type]
    if text.startswith("@"):
        path = Path(text[1:].strip()).expanduser()
        size = path.stat().st_size if path.is_file() else None
        ref = FileRef(file_id=str(path), name=path.name, size=size)
        return Incoming(kind=Kind.FILE, file=ref, **base)  # type: ignore[arg-type]
    return Incoming(kind=Kind.TEXT, text=text, **base)  # type: ignore[arg-type]


class TerminalChannel:
    """Runs a chat on a pair of text streams until end of input."""

    def __init__(
        self,
        core: Core,
        *,
        chat_id: str,
        user_name: str,
        stdin: TextIO,
        stdout: TextIO,
        outbox: Path,
        deliver: Callable[[], object] | None = None,
    ) -> None:
        self.core = core
        self.chat_id = chat_id
        self.user_name = user_name
        self.stdin = stdin
        self.stdout = stdout
        self.outbox = outbox
        self.deliver = deliver  # sends what the outbox owes now (the board's decisions…)

    async def send_queued(self, chat_id: str, message: Outgoing) -> SendResult:
        """The outbox's port for this channel: a message for this chat is printed here; one for
        another terminal chat is printed with its address (one person plays every part)."""
        with use_language(self.core.settings.locale):
            if chat_id != self.chat_id:
                self._print(_("[to the chat %(chat)s]") % {"chat": chat_id})
            self.render(Reply(message.text))  # its buttons belong to Telegram
        return SendResult(Outcome.SENT)

    def fetch(self, file: FileRef, dest: Path, *, max_bytes: int) -> int:
        """Copies a local file the person named; the size is checked first."""
        source = Path(file.file_id)
        if not source.is_file():
            raise FileNotFoundError(source)
        size = source.stat().st_size
        if size > max_bytes:
            raise FileTooLarge(size, max_bytes)
        shutil.copyfile(source, dest)
        return size

    def send(self, incoming: Incoming) -> list[Reply]:
        """Hands one input to the core and prints what comes back."""
        if incoming.kind == Kind.FILE and incoming.file and incoming.file.size is None:
            with use_language(self.core.settings.locale):
                self._print(_("There is no file at %(path)s.") % {"path": incoming.file.file_id})
            return []
        result = self.core.handle(incoming, files=self)
        with use_language(result.language):
            for reply in result.replies:
                self.render(reply)
            for aside in result.aside:  # one person here: the long work runs now, then prints
                self.render(self.core.run_aside(CHANNEL, self.chat_id, aside, result.language))
            for notice in result.board:
                self._print(_("[to the board's chat] %(text)s") % {"text": notice.text})
        if self.deliver is not None:
            self.deliver()
        return result.replies

    def render(self, reply: Reply) -> None:
        """Prints a reply: its text, numbered choices, and where an attached file was saved."""
        self._print(reply.text)
        if reply.typed:  # numbers are values in this step
            self._print("  " + _("(type one of these to choose it; anything else is an answer)"))
        for number, choice in enumerate(reply.choices, start=1):
            self._print(f"  • {choice.label}" if reply.typed else f"  {number}. {choice.label}")
        if reply.file is not None:
            self.outbox.mkdir(parents=True, exist_ok=True)
            target = self.outbox / Path(reply.file.name).name
            shutil.copyfile(reply.file.path, target)
            self._print(_("[file saved: %(path)s]") % {"path": target})
        self._print("")

    def run(self, first: str | None = None) -> None:
        """Reads lines until end of input (Ctrl-D); ``first`` is sent before reading."""
        language = self.core.settings.locale
        if first:
            self._handle_line(first, language)
        while True:
            self.stdout.write("> ")
            self.stdout.flush()
            try:
                line = self.stdin.readline()
            except (EOFError, OSError, KeyboardInterrupt):
                line = ""
            if not line:
                self._print("")
                return
            self._handle_line(line, language)

    def _handle_line(self, line: str, language: str) -> None:
        incoming = parse_line(
            line, chat_id=self.chat_id, user_name=self.user_name, language=language
        )
        if incoming is not None:
            self.send(incoming)

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()
