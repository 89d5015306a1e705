"""Routing one input: commands first, then the current step; stale buttons are caught here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath

from bot.core.context import BUTTONS, NUMBERED, TYPED, Ctx
from bot.core.flow import MAIN_MENU, Step
from bot.core.types import FileRef, Kind
from bot.i18n import _
from storage.invitations import looks_like_code
from storage.text import search_key

GLOBAL = "g"  # tokens "g:<key>" skip the version check; only the flows' global choices take them
SHEET, DOCUMENT = "sheet", "document"  # the kinds of file the flows read
_SHEET_TYPES = {"xlsx", "xlsm", "xls", "csv", "ods"}
_DOCUMENT_TYPES = {"pdf", "doc", "docx"}
_MIME = {
    "application/pdf": DOCUMENT,
    "application/msword": DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCUMENT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": SHEET,
    "application/vnd.ms-excel": SHEET,
    "text/csv": SHEET,
}


def file_kind(file: FileRef | None) -> str:
    """What a sent file claims to be, by its name, else its type: a step then checks the
    content itself ("" when it says nothing we read)."""
    if file is None:
        return ""
    suffix = PurePosixPath(file.name or "").suffix.lstrip(".").casefold()
    if suffix in _SHEET_TYPES:
        return SHEET
    if suffix in _DOCUMENT_TYPES:
        return DOCUMENT
    return _MIME.get((file.mime_type or "").casefold(), "")


def reprompt(ctx: Ctx) -> None:
    """Asks the current step's question again (or shows the menu, when the step is no
    longer the person's to be in)."""
    if not _may_stay(ctx):
        ctx.goto(MAIN_MENU)
    ctx.router.step(ctx.conv.step).prompt(ctx)


def _may_stay(ctx: Ctx) -> bool:
    """Whether the chat's person still holds a role the current step requires."""
    step = ctx.router.steps.get(ctx.conv.step)
    return step is None or not step.roles or ctx.is_role(*step.roles)


def _typed_choice(text: str, keys: list[str], labels: object, *, partly: bool = False) -> str:
    """The choice whose label (or its words before ":", as in "Keep: 1.500") was typed, if any;
    ``partly``: also the one label holding the typed words ("cham" for "Đóng chậm").

    Case, diacritics and punctuation do not matter ("giu nguyen" is "Giữ nguyên").
    """
    if not isinstance(labels, list) or len(labels) != len(keys):
        return ""
    typed = search_key(text)
    if not typed:
        return ""
    folded = [
        (key, search_key(str(label)), str(label)) for key, label in zip(keys, labels, strict=True)
    ]
    found = [k for k, whole, label in folded if typed in (whole, search_key(label.split(":")[0]))]
    if not found and partly and len(typed) >= 3:
        found = [k for k, whole, _label in folded if f" {typed} " in f" {whole} "]
    return found[0] if len(found) == 1 else ""


def route(ctx: Ctx) -> None:
    """Dispatches the input to a command, the current step, or the menu."""
    incoming = ctx.incoming
    if incoming.kind == Kind.TEXT and ctx.contact is None and looks_like_code(incoming.text):
        # the code typed alone, without /start (read from paper, or the link not opened)
        incoming = ctx.incoming = replace(
            incoming, kind=Kind.COMMAND, command="start", args=incoming.text
        )
    if not _may_stay(ctx):  # unlinked or demoted since: the step closes before anything else
        ctx.goto(MAIN_MENU)
        ctx.say(_("Your access has changed, so the step you were in was closed."))
        if incoming.kind != Kind.COMMAND:  # what was meant for that step is not read elsewhere
            reprompt(ctx)
            return
    raw = ctx.data(BUTTONS, [])
    offered = [str(key) for key in raw] if isinstance(raw, list) else []
    listed = ctx.data(NUMBERED, [])
    numbered = [str(key) for key in listed] if isinstance(listed, list) else []
    router = ctx.router
    step = router.steps.get(ctx.conv.step)
    free_text = step is not None and step.free_text
    if incoming.kind == Kind.CHOICE and incoming.choice.startswith(f"{GLOBAL}:"):
        ctx.choice = incoming.choice.partition(":")[2]  # a button valid in any step (reminders)
    elif incoming.kind == Kind.CHOICE:
        version, _sep, key = incoming.choice.partition(":")
        if version != str(ctx.conv.version) or key not in offered:
            ctx.say(_("That button belongs to an earlier message. Here is where we are now."))
            reprompt(ctx)
            return
        ctx.choice = key
    elif incoming.kind == Kind.TEXT and typed_number(incoming.text) is not None and not free_text:
        number = typed_number(incoming.text) or 0
        if 1 <= number <= len(numbered):
            ctx.choice = numbered[number - 1]
    elif incoming.kind == Kind.TEXT:  # a button's own words, typed (free text: the whole label)
        labels = ctx.data(TYPED, [])
        ctx.choice = _typed_choice(incoming.text, numbered, labels, partly=not free_text)
    global_choice = router.choices.get(ctx.choice.partition(":")[0]) if ctx.choice else None
    if global_choice is not None:
        global_choice(ctx)
        return
    if incoming.choice.startswith(f"{GLOBAL}:"):  # a global token nobody handles: treat as stale
        ctx.say(_("That button belongs to an earlier message. Here is where we are now."))
        reprompt(ctx)
        return
    if incoming.kind == Kind.COMMAND:
        handler = router.commands.get(incoming.command)
        if handler is None:
            ctx.say(
                _("There is no command /%(name)s. Type /help to see what you can do.")
                % {"name": incoming.command[:32]}
            )
            reprompt(ctx)
            return
        handler(ctx)
        return
    if incoming.kind == Kind.FILE and _taken_elsewhere(ctx, step):
        return
    router.step(ctx.conv.step).handle(ctx)


def _taken_elsewhere(ctx: Ctx, step: Step | None) -> bool:
    """A file the current step does not read goes to the flow that can use it (the filled form
    sent from the menu, the signed report from the report's page), which says so."""
    if step is not None and step.files:
        return False  # a step waiting for a file reads it, or says what it expected instead
    kind = file_kind(ctx.incoming.file)
    return any(take(ctx, kind) for take in ctx.router.file_takers)


def typed_number(text: str) -> int | None:
    """A number typed to pick from a list: decimal digits of any script ("１２" too), but not
    "²" or "①" (which int() refuses) nor thousands of digits (which it refuses too)."""
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= 9 else None
