"""Admins write to all contacts, or to those still owing a milestone, through the paced outbox."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core.commands import HOME, command
from bot.core.context import Ctx, Step, register
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.registry_chat import refuse
from bot.i18n import _
from bot.milestone_text import milestone_name
from scheduler import planner
from storage import audit, campaigns
from storage.models import ChatLink, Contact, Milestone, Role
from storage.text import nfc

TEXT, AUDIENCE, CONFIRM = "bc.text", "bc.audience", "bc.confirm"
MAX_TEXT = 2000  # Zalo's limit, so one text fits every channel


@command("broadcast")
def start_broadcast(ctx: Ctx) -> None:
    """Asks an admin for the message."""
    if refuse(ctx, Role.ADMIN):
        return
    ctx.goto(TEXT)
    prompt_text(ctx)


def prompt_text(ctx: Ctx) -> None:
    """Says what to type."""
    ctx.say(
        _("Type the message to send (at most %(n)s characters). Type /cancel to stop.")
        % {"n": MAX_TEXT}
    )


def handle_text(ctx: Ctx) -> None:
    """Keeps the text, then asks who should get it."""
    if refuse(ctx, Role.ADMIN):
        ctx.goto(HOME)
        return
    if ctx.incoming.kind != Kind.TEXT:
        hint_and_reprompt(ctx)
        return
    text = nfc(ctx.incoming.text)
    if not text or len(text) > MAX_TEXT:
        ctx.say(_("The message must have 1 to %(n)s characters.") % {"n": MAX_TEXT})
        return
    ctx.goto(AUDIENCE, text=text)
    prompt_audience(ctx)


def prompt_audience(ctx: Ctx) -> None:
    """All contacts, or those of enterprises still owing one milestone."""
    campaign = campaigns.get_campaign(session=ctx.session)
    stones = campaigns.milestones(session=ctx.session, campaign=campaign) if campaign else []
    choices = [("all", _("All enterprise contacts"))]
    choices += [
        (f"m:{s.id}", _("Those still owing: %(name)s") % {"name": milestone_name(s.kind)})
        for s in stones
    ]
    ctx.say(_("Who should get it?"), choices)


def _targets(ctx: Ctx, audience: str) -> list[tuple[int, str, str]]:
    """(contact, channel, chat) of every reachable chat in the audience."""
    query = (
        select(Contact.id, Contact.enterprise_id, ChatLink.channel, ChatLink.chat_id)
        .join(ChatLink, col(ChatLink.contact_id) == col(Contact.id))
        .where(Contact.role == Role.CONTACT, col(ChatLink.reachable).is_(True))
    )
    owing: set[int | None] | None = None
    if audience.startswith("m:"):
        stone = ctx.session.get(Milestone, int(audience[2:]))
        owing = {e.id for e in planner.progress(ctx.session, stone).owing} if stone else set()
    return [
        (contact or 0, channel, chat)
        for contact, enterprise, channel, chat in ctx.session.exec(query).all()
        if owing is None or enterprise in owing
    ]


def handle_audience(ctx: Ctx) -> None:
    """Counts the recipients and asks to confirm."""
    if ctx.choice != "all" and not ctx.choice.startswith("m:"):
        hint_and_reprompt(ctx)
        return
    count = len(_targets(ctx, ctx.choice))
    ctx.goto(CONFIRM, text=ctx.data("text"), audience=ctx.choice, count=count)
    prompt_confirm(ctx)


def prompt_confirm(ctx: Ctx) -> None:
    """Shows the message and how many chats get it."""
    ctx.say(
        _("Send this message to %(n)s chats?\n\n%(text)s")
        % {"n": ctx.data("count"), "text": ctx.data("text")},
        [("send", _("Send")), ("no", _("No, cancel"))],
    )


def handle_confirm(ctx: Ctx) -> None:
    """Queues one outbox row per chat; the dispatcher sends them paced."""
    if refuse(ctx, Role.ADMIN):
        ctx.goto(HOME)
        return
    if ctx.choice == "no":
        ctx.goto(HOME)
        ctx.say(_("Cancelled. Nothing was sent."))
        show_menu(ctx)
        return
    if ctx.choice != "send":
        hint_and_reprompt(ctx)
        return
    text, audience = str(ctx.data("text")), str(ctx.data("audience"))
    queued = 0
    for contact_id, channel, chat_id in _targets(ctx, audience):
        queued += planner.enqueue(
            session=ctx.session,
            key=f"broadcast:{ctx.conv.id}:{ctx.conv.version}:{channel}:{chat_id}",
            kind="broadcast",
            target=planner.Target(channel, chat_id),
            now=ctx.now,
            payload={"text": text, "contact": contact_id},
        )
    audit.record(
        db=ctx.session,
        actor=f"contact:{ctx.contact.id if ctx.contact else '?'}",
        action="broadcast",
        now=ctx.now,
        target=audience,
        details={"queued": queued, "text": text[:200]},
    )
    ctx.goto(HOME)
    ctx.say(_("%(n)s messages are queued and go out within a minute.") % {"n": queued})
    show_menu(ctx)


for name, prompt, handle in (
    (TEXT, prompt_text, handle_text),
    (AUDIENCE, prompt_audience, handle_audience),
    (CONFIRM, prompt_confirm, handle_confirm),
):
    register(Step(name, prompt=prompt, handle=handle, back=HOME, free_text=name == TEXT))
