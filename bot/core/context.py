"""What a step sees: the database, the chat's state and person, the clock, the flows, and a way
to answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.core.flow import Router
from bot.core.types import (
    MAX_TEXT,
    Aside,
    Choice,
    FilePort,
    FileRef,
    Incoming,
    OutFile,
    Reply,
    Result,
)
from bot.i18n import _
from bot.settings import Settings
from storage import file_links
from storage.conversations import ChatState, Person
from storage.models import Role


@dataclass
class Ctx:
    """One update being answered; replies accumulate in ``result``.

    ``conn`` is the update's transaction. ``session`` is an ORM session in that same transaction,
    made on first use: the everyday updates (menu, buttons, onboarding) need no ORM at all.
    """

    conn: Connection
    conv: ChatState
    contact: Person | None
    incoming: Incoming
    now: datetime
    settings: Settings
    files: FilePort | None
    router: Router
    busy: frozenset[str] = frozenset()  # keys of this chat's long work still running
    result: Result = field(default_factory=Result)
    choice: str = ""  # the key of the choice made, already checked against the current version
    _session: Session | None = field(default=None, init=False, repr=False)

    @property
    def session(self) -> Session:
        """The ORM session of this update; it never commits, the engine does."""
        if self._session is None:
            self._session = Session(
                bind=self.conn,
                expire_on_commit=False,
                autoflush=False,  # steps flush what later queries must see
                join_transaction_mode="rollback_only",
            )
        return self._session

    def flush(self) -> None:
        """Writes what steps left pending in the ORM session, before the engine commits."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        """Lets go of the ORM session (its objects stay readable)."""
        if self._session is not None:
            self._session.close()

    @property
    def role(self) -> str | None:
        """The linked person's role, or None for a stranger."""
        return self.contact.role if self.contact else None

    @property
    def actor(self) -> str:
        """Who acts, as the audit log and the records name them."""
        return f"contact:{self.contact.id if self.contact else '?'}"

    def is_role(self, *roles: Role) -> bool:
        """Whether the linked person holds one of ``roles``."""
        return self.contact is not None and self.contact.role in roles

    def say(
        self,
        text: str,
        choices: Sequence[tuple[str, str]] = (),
        file: OutFile | None = None,
        *,
        numbered: bool = False,
    ) -> None:
        """Adds a reply; choices are (key, label) pairs valid until the step changes, picked by
        a button, by their words typed, or by their number (``numbered`` forces numbers in a
        free-text step whose step reads them itself, as a choice among figures does)."""
        tokens = tuple(Choice(f"{self.conv.version}:{key}", label) for key, label in choices)
        keys = [key for key, _ in choices]
        step = self.router.steps.get(self.conv.step)
        typed = bool(keys) and step is not None and step.free_text and not numbered
        if keys:
            shown = self.conv.data.get(BUTTONS, [])
            earlier = [str(k) for k in shown] if isinstance(shown, list) else []
            # Buttons stay valid until the step changes; typed numbers and words mean the
            # latest list only.
            self.set_data(
                **{
                    BUTTONS: list(dict.fromkeys(earlier + keys)),
                    NUMBERED: keys,
                    TYPED: [label for _, label in choices],
                }
            )
        last = self.result.replies[-1] if self.result.replies else None
        if (
            last is not None
            and not last.choices
            and last.file is None
            and file is None
            and len(last.text) + 2 + len(text) <= MAX_TEXT
        ):  # one message rather than two: Telegram and Zalo count messages, people too
            self.result.replies[-1] = Reply(f"{last.text}\n\n{text}", tokens, typed=typed)
            return
        self.result.replies.append(Reply(text, tokens, file, typed))

    def aside(self, key: str, work: Callable[[Session], Reply], started: str, *more: Aside) -> None:
        """Hands long work over (an export): says it started, and the result follows when done
        (``more``: further pieces of the same request, each sent when ready). While the chat's
        earlier work of the same key runs, says so and starts nothing."""
        if key in self.busy:
            self.say(_("This is still being prepared. It will be sent here when it is ready."))
            return
        self.result.aside.extend((Aside(key, work), *more))
        self.say(started)

    def end_update(self) -> None:
        """After the answer: typed numbers pick from its last list only if it ended with one."""
        last = self.result.replies[-1] if self.result.replies else None
        if (last is None or not last.choices) and NUMBERED in self.conv.data:
            listed = (NUMBERED, TYPED)
            self.conv.data = {k: v for k, v in self.conv.data.items() if k not in listed}

    def goto(self, step: str, **data: object) -> None:
        """Moves to ``step`` with fresh step data; buttons shown before now become stale."""
        self.conv.step = step
        self.conv.data = dict(data)
        self.conv.version += 1

    def set_data(self, **values: object) -> None:
        """Updates the step's data (reassigned so the JSON column is saved)."""
        self.conv.data = {**self.conv.data, **values}

    def data(self, key: str, default: object = None) -> object:
        """One value of the step's data."""
        return self.conv.data.get(key, default)

    def upload_link(self) -> str | None:
        """On a channel that cannot carry files, a one-time link (bound to this chat, step and
        state version) to a page where the file is sent; None where files come in the chat,
        or where no public address is set."""
        channel = self.incoming.channel
        if channel not in self.settings.files_by_link or not self.settings.public_url:
            return None
        token = file_links.issue(
            self.conn, kind="upload", channel=channel, chat_id=self.incoming.chat_id,
            now=self.now, ttl=file_links.UPLOAD_TTL, step=self.conv.step,
            version=self.conv.version,
        )  # fmt: skip
        return f"{self.settings.public_url}/u/{token}"

    def fetch(self, file: FileRef, *, max_bytes: int) -> Path:
        """Downloads a sent file under the data directory, never under the sender's file name."""
        if self.files is None:
            raise RuntimeError("this channel cannot fetch files")
        folder = self.settings.data_dir / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / uuid.uuid4().hex
        try:
            self.files.fetch(file, dest, max_bytes=max_bytes)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        return dest


BUTTONS = "_choices"  # keys of buttons shown in this step (checked against pressed tokens)
NUMBERED = "_numbered"  # keys of the last list shown, which typed numbers pick from
TYPED = "_typed"  # the labels of that list, which typed words pick from
