"""Translating Telegram updates to Incoming, and Replies to Bot API calls."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from telegram import Bot as TelegramBot
from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.reply_bot import ReplyBot
from bot.core.types import MAX_TEXT, FileRef, FileTooLarge, Incoming, Kind, Reply
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, _, use_language
from bot.readahead import read_ahead
from storage.models import Role

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses larger files
DOWNLOAD_CHUNK = 64 * 1024
PART_PREFIX = ".part-"  # a document fetched ahead of its step (swept at start if left)
log = logging.getLogger(__name__)
stats: Counter[str] = Counter()  # skipped and failed updates, by reason, for logs and tests

COMMAND_TEXTS = {
    "start": N_("Start, or link this chat with an invitation code"),
    "menu": N_("Main menu"),
    "help": N_("Help"),
    "lang": N_("Tiếng Việt / English"),
    "cancel": N_("Stop the current step"),
    "back": N_("Go back one step"),
    "export": N_("The enterprise list as an Excel file"),
    "progress": N_("Progress per milestone and zone"),
    "owing": N_("Who still owes, and reminding them"),
    "lists": N_("The aggregated lists as files"),
    "broadcast": N_("A message to all contacts, or to those still owing"),
    "invite": N_("An invitation code"),
    "campaign": N_("The campaign's deadlines"),
    "review": N_("Review submissions"),
    "import": N_("Import an enterprise list"),
}
_EVERYDAY = ["help", "lang", "cancel", "back"]
_BOARD = ["menu", "progress", "owing", "review", "lists", "campaign", "export"]
ROLE_COMMANDS = {
    None: ["start", "menu", *_EVERYDAY],
    Role.CONTACT.value: ["menu", *_EVERYDAY],
    Role.BOARD.value: [*_BOARD, *_EVERYDAY],
    Role.ADMIN.value: [*_BOARD, "import", "broadcast", "invite", *_EVERYDAY],
}


def incoming_from(update: Mapping[str, Any], bot_username: str | None) -> Incoming | None:
    """The neutral input of an update as Telegram sent it (its JSON, read directly: decoding it
    into PTB's objects was a tenth of the CPU under a surge), or None (counted) for updates a
    person did not aim at us."""
    query = update.get("callback_query")
    if query is not None:
        chat = (query.get("message") or {}).get("chat") or {}
        if chat.get("type") != "private":
            stats["callback_outside_private_chat"] += 1
            return None
        user = query.get("from") or {}
        return Incoming(
            channel=CHANNEL,
            chat_id=str(chat["id"]),
            kind=Kind.CHOICE,
            choice=query.get("data") or "",
            user_name=full_name(user),
            language_code=user.get("language_code"),
            key=str(update["update_id"]),
        )
    if update.get("edited_message") is not None:
        stats["edited_message"] += 1
        return None
    message = update.get("message")
    if message is None:
        stats[f"update_{kind_of(update)}"] += 1
        return None
    if message["chat"].get("type") != "private":
        stats["group_message"] += 1
        return None
    user = message.get("from")
    base = {
        "channel": CHANNEL,
        "chat_id": str(message["chat"]["id"]),
        "user_name": full_name(user) if user else "",
        "language_code": user.get("language_code") if user else None,
        "key": str(update["update_id"]),
    }
    return _message_input(message, bot_username, base)


def full_name(user: Mapping[str, Any]) -> str:
    """A Telegram user's first and last name, as PTB's ``User.full_name`` gives it."""
    first, last = user.get("first_name") or "", user.get("last_name")
    return f"{first} {last}" if last else first


def kind_of(update: Mapping[str, Any]) -> str:
    """What an update carries (its one field besides the id), for counters and logs."""
    return next((key for key in update if key != "update_id"), "other")


def _message_input(
    message: Mapping[str, Any], bot_username: str | None, base: Mapping[str, object]
) -> Incoming:
    """Classifies a private message: command, text, document, or something else."""
    text = message.get("text") or ""
    if text.startswith("/"):
        head, _sep, args = text[1:].partition(" ")
        name, _at, target = head.partition("@")
        if not target or (bot_username and target.lower() == bot_username.lower()):
            return Incoming(kind=Kind.COMMAND, text=text, command=name.lower(), args=args, **base)  # type: ignore[arg-type]
    if text:
        return Incoming(kind=Kind.TEXT, text=text, **base)  # type: ignore[arg-type]
    ref = document_of(message)
    if ref is not None:
        return Incoming(kind=Kind.FILE, file=ref, **base)  # type: ignore[arg-type]
    return Incoming(kind=Kind.OTHER, **base)  # type: ignore[arg-type]


def document_of(message: Mapping[str, Any] | None) -> FileRef | None:
    """The document a private message carries, if any (nothing counted: see incoming_from)."""
    if message is None or (message.get("chat") or {}).get("type") != "private":
        return None
    doc = message.get("document")
    if not doc:
        return None
    return FileRef(doc["file_id"], doc.get("file_name"), doc.get("file_size"), doc.get("mime_type"))


def keyboard(choices: Iterable[tuple[str, str]]) -> dict[str, object] | None:
    """An inline keyboard as the Bot API takes it, one button per row (long Vietnamese labels).

    Built as JSON directly: PTB's keyboard objects would be built only to be turned back into it.
    """
    rows = [[{"text": label[:64], "callback_data": token[:64]}] for token, label in choices]
    return {"inline_keyboard": rows} if rows else None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts a long reply at line breaks (or hard, if a line is too long) into sendable parts."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    parts.append(current)
    return [p for p in parts if p] or [" "]


async def send_reply(bot: ReplyBot, chat_id: int | str, reply: Reply) -> None:
    """Sends one reply: text parts, the keyboard on the last, then any file."""
    parts = split_text(reply.text)
    last = len(parts) - 1
    for index, part in enumerate(parts):
        markup = keyboard((c.token, c.label) for c in reply.choices) if index == last else None
        await bot.send_text(chat_id, part, markup)
    if reply.file is not None and reply.file.channel_file_id:
        await bot.send_document(chat_id=chat_id, document=reply.file.channel_file_id)
    elif reply.file is not None:
        with reply.file.path.open("rb") as handle:
            await bot.send_document(chat_id=chat_id, document=handle, filename=reply.file.name)


async def mark_chosen(bot: ReplyBot, update: Mapping[str, Any]) -> None:
    """Answers the button press and shows in the message which button was pressed."""
    query = update.get("callback_query")
    if query is None:
        return
    await bot.answer_press(query["id"])
    message = query.get("message") or {}
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    label = next(
        (
            button.get("text")
            for row in rows
            for button in row
            if button.get("callback_data") == query.get("data")
        ),
        None,
    )
    text = message.get("text") or ""
    if label and len(text) + len(label) + 4 <= MAX_TEXT:
        await bot.edit_text(message["chat"]["id"], message["message_id"], f"{text}\n\n→ {label}")


async def set_commands(bot: TelegramBot, *, role: str | None) -> None:
    """Publishes everyone's command menu, once per Telegram app language."""
    scope = BotCommandScopeAllPrivateChats()
    for code in LANGUAGES:
        commands = [BotCommand(c["command"], c["description"]) for c in _commands(role, code)]
        await bot.set_my_commands(
            commands, scope=scope, language_code=None if code == DEFAULT_LANGUAGE else code
        )


async def set_chat_commands(
    bot: ReplyBot, *, chat_id: int, role: str, chosen_language: str | None
) -> None:
    """Publishes one chat's command menu for its role.

    Until the person picks a language with /lang, Telegram shows the menu in the app's language,
    as the replies follow it too; after, one menu in the chosen language, and no per-language
    menu left to take precedence over it.
    """
    if chosen_language is None:
        for code in LANGUAGES:
            language_code = None if code == DEFAULT_LANGUAGE else code
            await bot.set_chat_commands(chat_id, _commands(role, code), language_code)
        return
    await bot.set_chat_commands(chat_id, _commands(role, chosen_language))
    for code in LANGUAGES:
        if code != DEFAULT_LANGUAGE:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id), language_code=code)


@cache
def _commands(role: str | None, language: str) -> tuple[dict[str, str], ...]:
    """A role's commands described in ``language`` (the same few lists, built once)."""
    with use_language(language):
        return tuple(
            {"command": name, "description": _(COMMAND_TEXTS[name])} for name in ROLE_COMMANDS[role]
        )


class TelegramFiles:
    """Fetches a sent document for a step running in a worker thread, size checked first.

    A document is fetched before its chat's turn when it can be (``prefetch``): the download,
    seconds over a slow network, then holds no turn and no transaction; the step takes the
    file already on disk.
    """

    def __init__(self, bot: TelegramBot, loop: asyncio.AbstractEventLoop) -> None:
        self.bot = bot
        self.loop = loop
        self.prefetched: dict[str, Path] = {}  # file id -> downloaded, not yet taken

    async def prefetch(self, file: FileRef, folder: Path) -> None:
        """Downloads a document ahead of its step, into ``folder``, and reads it when it is a
        spreadsheet (a failure is left to the step, which fetches again and explains)."""
        if file.size is not None and file.size > BOT_API_DOWNLOAD_LIMIT:
            return  # the step refuses it from its size alone
        if file.file_id in self.prefetched:
            return  # the same document sent twice: fetched once
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{PART_PREFIX}{uuid.uuid4().hex}"
        try:
            await self._download(file, dest, BOT_API_DOWNLOAD_LIMIT)
        except Exception as error:
            dest.unlink(missing_ok=True)
            log.info("could not fetch a document ahead of its step: %r", error)
            return
        self.prefetched[file.file_id] = dest
        await asyncio.to_thread(read_ahead, dest)

    def discard(self) -> None:
        """Deletes what was fetched ahead and not taken (the step did not want a file)."""
        for path in self.prefetched.values():
            path.unlink(missing_ok=True)
        self.prefetched.clear()

    def fetch(self, file: FileRef, dest: Path, *, max_bytes: int) -> int:
        """Downloads through getFile and the file URL; refuses before downloading when too big."""
        limit = min(max_bytes, BOT_API_DOWNLOAD_LIMIT)
        if file.size is not None and file.size > limit:
            raise FileTooLarge(file.size, limit)
        ready = self.prefetched.pop(file.file_id, None)
        if ready is not None:
            size = ready.stat().st_size
            if size > limit:
                ready.unlink(missing_ok=True)
                raise FileTooLarge(size, limit)
            os.replace(ready, dest)
            return size
        future = asyncio.run_coroutine_threadsafe(self._download(file, dest, limit), self.loop)
        try:
            return future.result(timeout=300)
        except TimeoutError:
            future.cancel()  # or it would go on writing a file the step has given up on
            raise

    async def _download(self, file: FileRef, dest: Path, limit: int) -> int:
        """Streams the file to disk in chunks (PTB's own download holds it whole in memory)."""
        remote = await self.bot.get_file(file.file_id)
        if remote.file_size is not None and remote.file_size > limit:
            raise FileTooLarge(remote.file_size, limit)
        if not remote.file_path:
            raise FileNotFoundError(file.file_id)
        if not remote.file_path.startswith(("http://", "https://")):  # a local Bot API server
            shutil.copyfile(remote.file_path, dest)
            return dest.stat().st_size
        written = 0
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client,
            client.stream("GET", remote.file_path) as response,
        ):
            response.raise_for_status()
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise FileTooLarge(written, limit)
                    out.write(chunk)
        return written
