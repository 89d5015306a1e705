"""Zalo events to Incoming, replies to text: numbered choices, split at 2,000 characters."""

from __future__ import annotations

from bot.channels.zalo import CHANNEL, MAX_TEXT
from bot.core.types import Incoming, Kind, Reply
from bot.i18n import _
from storage.invitations import looks_like_code

TEXT_EVENT = "message.text.received"


def event_of(body: object) -> dict[str, object] | None:
    """The event of a webhook body or a poll's result: ``{ok, result: {...}}`` or bare."""
    if not isinstance(body, dict):
        return None
    inner = body.get("result") if "result" in body else body
    if not isinstance(inner, dict) or not isinstance(inner.get("message"), dict):
        return None
    return inner


def chat_and_key(event: dict[str, object]) -> tuple[str, str] | None:
    """The chat's id and the message's id (the key a repeated delivery is known by)."""
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_id = str(chat.get("id") or "") if isinstance(chat, dict) else ""
    key = str(message.get("message_id") or "")
    return (chat_id, key) if chat_id and key else None


def incoming_from(event: dict[str, object]) -> Incoming | None:
    """The input for the core, or None for what is nobody's (a group's message, a bot's)."""
    message = event.get("message")
    found = chat_and_key(event)
    if not isinstance(message, dict) or found is None:
        return None
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    assert isinstance(chat, dict) and isinstance(sender, dict)
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE" or sender.get("is_bot"):
        return None
    chat_id, key = found
    base = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "user_name": str(sender.get("display_name") or ""),
        "key": key,
    }
    if event.get("event_name") != TEXT_EVENT:  # a sticker, a picture, a voice, a file
        return Incoming(kind=Kind.OTHER, **base)  # type: ignore[arg-type]
    text = str(message.get("text") or "").strip()
    if text.startswith("/"):
        name, _sep, args = text[1:].partition(" ")
        return Incoming(kind=Kind.COMMAND, text=text, command=name.lower(), args=args, **base)  # type: ignore[arg-type]
    if looks_like_code(text):  # no deep links on Zalo: the invitation code typed alone
        return Incoming(kind=Kind.COMMAND, text=text, command="start", args=text, **base)  # type: ignore[arg-type]
    return Incoming(kind=Kind.TEXT, text=text, **base)  # type: ignore[arg-type]


def texts_of(reply: Reply, link: str | None = None) -> list[str]:
    """A reply as Zalo messages: the text, a file as its download link, then the choices
    numbered (or listed as words to type where numbers are values), cut at line ends to fit
    2,000 characters."""
    lines = [reply.text]
    if reply.file is not None:
        lines.append(
            _("File %(name)s: %(link)s (open it within an hour)")
            % {"name": reply.file.name, "link": link}
            if link
            else _("File %(name)s: it can be downloaded on Telegram, or asked of the board.")
            % {"name": reply.file.name}
        )
    if reply.choices and reply.typed:
        lines.append(_("(type one of these to choose it; anything else is an answer)"))
    for number, choice in enumerate(reply.choices, start=1):
        lines.append(f"• {choice.label}" if reply.typed else f"{number}. {choice.label}")
    return split("\n".join(lines))


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line's end where one is near."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    if text.strip() or not pieces:
        pieces.append(text)
    return pieces
