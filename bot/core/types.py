"""The only types flows and channels share: what came in, and what to answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlmodel import Session

MAX_TEXT = 4096  # Telegram's message limit; longer replies are split by the channel


class Kind(StrEnum):
    """What a person sent."""

    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"
    FILE = "file"
    OTHER = "other"  # a sticker, photo, voice note, location…: not something a step can read


@dataclass(frozen=True)
class FileRef:
    """A file the person sent; fetched only when a step wants it, after its size is checked."""

    file_id: str
    name: str | None
    size: int | None
    mime_type: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One input from one chat, whatever the channel."""

    channel: str
    chat_id: str
    kind: Kind
    text: str = ""
    command: str = ""
    args: str = ""
    choice: str = ""
    file: FileRef | None = None
    user_name: str = ""
    language_code: str | None = None
    key: str | None = None  # the channel's id of this delivery: one delivered again is skipped
    inbox_id: int | None = None  # its row in the durable inbox, marked done with its effects


@dataclass(frozen=True)
class Choice:
    """A button (Telegram) or a numbered line (terminal, Zalo); ``token`` is opaque to channels."""

    token: str
    label: str


@dataclass(frozen=True)
class OutFile:
    """A file to send: a path on disk and the name the person sees."""

    path: Path
    name: str
    channel_file_id: str | None = None  # the channel's id of the same file: re-sent, not uploaded
    channel: str | None = None  # the channel that id belongs to (ids mean nothing elsewhere)


@dataclass(frozen=True)
class Reply:
    """One message to send back."""

    text: str
    choices: tuple[Choice, ...] = ()
    file: OutFile | None = None
    typed: bool = False  # the step reads typed values: choices are picked by their words, not 1, 2…


@dataclass(frozen=True)
class Aside:
    """Long work a step hands over (an export): run after the answer, on a session of its own,
    away from other chats' answers; its result is sent to the chat when done."""

    key: str  # one at a time per chat and key: a second request is told to wait
    work: Callable[[Session], Reply]


@dataclass
class Result:
    """What one input produced: the replies, and the command menu to show if the role changed."""

    replies: list[Reply] = field(default_factory=list)
    menu_role: str | None = None
    language: str = "vi"
    chosen_language: str | None = None  # set with /lang; None: the app's language decides
    board: list[Reply] = field(default_factory=list)  # notices for the board's chat
    aside: list[Aside] = field(default_factory=list)  # long work to run after the answer
    handled: bool = True  # False: the database could not be reached; handle it again later


def answer_of(result: Result) -> dict[str, object]:
    """What a channel needs to send the answer again after a crash, as JSON."""
    return {
        "replies": [
            {
                "text": r.text,
                "choices": [[c.token, c.label] for c in r.choices],
                "file": [str(r.file.path), r.file.name] if r.file else None,
                "typed": r.typed,
            }
            for r in result.replies
        ],
        "menu_role": result.menu_role,
        "language": result.language,
        "chosen_language": result.chosen_language,
    }


def result_of(answer: dict[str, object]) -> Result:
    """The answer kept in the inbox, to send again (long work and board notices are not in it:
    the outbox keeps those)."""
    replies = []
    for item in answer.get("replies") or []:  # type: ignore[attr-defined]
        file = item.get("file")
        replies.append(
            Reply(
                str(item.get("text", "")),
                tuple(Choice(str(t), str(label)) for t, label in item.get("choices") or []),
                OutFile(Path(file[0]), str(file[1])) if file else None,
                bool(item.get("typed")),
            )
        )
    role, chosen = answer.get("menu_role"), answer.get("chosen_language")
    return Result(
        replies=replies,
        menu_role=str(role) if role else None,
        language=str(answer.get("language") or "vi"),
        chosen_language=str(chosen) if chosen else None,
    )


class FileTooLarge(Exception):
    """The channel will not fetch a file this large."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(size, limit)
        self.size = size
        self.limit = limit


class FilePort(Protocol):
    """How the core fetches a file a person sent, through the channel it came from."""

    def fetch(self, file: FileRef, dest: Path, *, max_bytes: int) -> int:
        """Writes the file to ``dest`` and returns its size; raises FileTooLarge first if needed."""
        ...
