"""Admins write to all contacts, or to those still owing a milestone, through the paced outbox."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.roles import ADMINS, refuse
from bot.i18n import _
from bot.texts.milestones import milestone_name
from storage import audit, campaigns, links, outbox, registry
from storage.models import Milestone, Role
from storage.progress import progress
from storage.text import nfc

TEXT, AUDIENCE, CONFIRM = "bc.text", "bc.audience", "bc.confirm"
MAX_TEXT = 2000  # Zalo's limit, so one text fits every channel


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


def _targets(ctx: Ctx, audience: str, meant: set[int] | None = None) -> list[links.Recipient]:
    """Every reachable chat of the audience: all contacts, or those of enterprises still owing
    (``meant``, when the caller has them already)."""
    if not audience.startswith("m:"):
        return links.reachable_chats(session=ctx.session)
    owing = _audience(ctx, audience) if meant is None else meant
    return links.reachable_chats(session=ctx.session, enterprise_ids=list(owing))


def handle_audience(ctx: Ctx) -> None:
    """Counts the recipients and asks to confirm."""
    if refuse(ctx, Role.ADMIN):
        return
    if ctx.choice != "all" and not ctx.choice.startswith("m:"):
        hint_and_reprompt(ctx)
        return
    meant = _audience(ctx, ctx.choice)
    targets = _targets(ctx, ctx.choice, meant)
    unreached = len(meant - {t.enterprise_id for t in targets})
    ctx.goto(
        CONFIRM, text=ctx.data("text"), audience=ctx.choice, count=len(targets),
        unreached=unreached,
    )  # fmt: skip
    prompt_confirm(ctx)


def _audience(ctx: Ctx, audience: str) -> set[int]:
    """The enterprises the message is meant for (whether a chat reaches them or not)."""
    if audience.startswith("m:"):
        stone = ctx.session.get(Milestone, int(audience[2:]))
        return {e.id for e in progress(ctx.session, stone).owing if e.id} if stone else set()
    active = registry.list_enterprises(session=ctx.session, active_only=True)
    return {e.id for e, _zone in active if e.id}


def prompt_confirm(ctx: Ctx) -> None:
    """Shows the message and how many chats get it."""
    text = _("Send this message to %(n)s chats?\n\n%(text)s") % {
        "n": ctx.data("count"),
        "text": ctx.data("text"),
    }
    unreached = ctx.data("unreached", 0)
    if isinstance(unreached, int) and unreached:
        text += "\n\n" + _(
            "%(n)s of the enterprises have no linked chat and will not get it: invite them with"
            " /invite <tax code>, or all at once with `thidua invite create --all-unlinked`."
        ) % {"n": unreached}
    ctx.say(text, [("send", _("Send")), ("no", _("No, cancel"))])


def handle_confirm(ctx: Ctx) -> None:
    """Queues one outbox row per chat; the dispatcher sends them paced."""
    if refuse(ctx, Role.ADMIN):
        return
    if ctx.choice == "no":
        ctx.goto(MAIN_MENU)
        ctx.say(_("Cancelled. Nothing was sent."))
        show_menu(ctx)
        return
    if ctx.choice != "send":
        hint_and_reprompt(ctx)
        return
    text, audience = str(ctx.data("text")), str(ctx.data("audience"))
    queued = 0
    for recipient in _targets(ctx, audience):
        queued += outbox.enqueue(
            session=ctx.session,
            key=f"broadcast:{ctx.conv.id}:{ctx.conv.version}:{recipient.target}",
            kind="broadcast",
            target=recipient.target,
            now=ctx.now,
            payload={"text": text, "contact": recipient.contact_id},
        )
    audit.record(
        db=ctx.session,
        actor=ctx.actor,
        action="broadcast",
        now=ctx.now,
        target=audience,
        details={"queued": queued, "text": text[:200]},
    )
    ctx.goto(MAIN_MENU)
    ctx.say(_("%(n)s messages are queued and go out within a minute.") % {"n": queued})
    show_menu(ctx)


flow = Flow(
    "broadcast",
    steps=(
        Step(
            TEXT,
            prompt=prompt_text,
            handle=handle_text,
            back=MAIN_MENU,
            free_text=True,
            roles=ADMINS,
        ),
        Step(
            AUDIENCE,
            prompt=prompt_audience,
            handle=handle_audience,
            back=MAIN_MENU,
            roles=ADMINS,
        ),
        Step(CONFIRM, prompt=prompt_confirm, handle=handle_confirm, back=MAIN_MENU, roles=ADMINS),
    ),
    commands={"broadcast": start_broadcast},
)
