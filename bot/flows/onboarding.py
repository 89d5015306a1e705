"""Linking a chat to a contact with an invitation code: /start CODE, confirm, linked."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.flows.menu import hint_and_reprompt, not_linked_text, show_menu
from bot.i18n import _, fmt_instant
from bot.texts.board import reach
from bot.texts.roles import role_name
from storage import invitations
from storage.text import nfc

CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FAILED = 5
FAILED_WINDOW = timedelta(minutes=15)
CONFIRM = "onboarding.confirm"


def start(ctx: Ctx) -> None:
    """With a code: checks it and asks to confirm. Without: the menu, or how to get a code."""
    code = ctx.incoming.args.strip().replace(" ", "")  # "K7MW 3QXA 9HDE" read out by phone
    if not code:
        if ctx.contact is None:
            ctx.say(
                _("Welcome to the emulation campaign assistant of %(board)s.")
                % {"board": ctx.settings.board_name}
            )
        if ctx.conv.step:
            ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    if _throttled(ctx):
        return
    status, invitation = (invitations.Redemption.UNKNOWN, None)
    if CODE_SHAPE.match(code):
        status, invitation = invitations.check_invitation(conn=ctx.conn, code=code, now=ctx.now)
    if status == invitations.Redemption.OK and invitation is not None:
        ctx.goto(CONFIRM, invitation=invitation.id)
        _ask_confirm(ctx, invitation)
        return
    _count_failure(ctx)
    if status == invitations.Redemption.USED:
        ctx.say(
            _(
                "This invitation code has already been used. If this chat is not linked yet, "
                "please ask the board for a new code."
            )
        )
    elif status == invitations.Redemption.EXPIRED and invitation is not None:
        ctx.say(
            _("This invitation code expired at %(when)s. Please ask the board for a new code.")
            % {"when": fmt_instant(invitation.expires_at, ctx.settings.tz)}
        )
    else:
        ctx.say(
            _(
                "This invitation code is not valid. Please check that you copied all of it, or ask "
                "the board for a new code."
            )
        )
    if ctx.contact is None:
        ctx.say(not_linked_text(ctx))


def _throttled(ctx: Ctx) -> bool:
    """Refuses codes for a while after too many wrong ones from this chat."""
    since = ctx.conv.failed_since
    if since is None or ctx.now - since >= FAILED_WINDOW:
        ctx.conv.failed_codes, ctx.conv.failed_since = 0, None
        return False
    if ctx.conv.failed_codes < MAX_FAILED:
        return False
    minutes = max(1, math.ceil((since + FAILED_WINDOW - ctx.now).total_seconds() / 60))
    ctx.say(
        _(
            "Too many wrong codes were tried from this chat. Please wait %(minutes)s minutes and "
            "try again."
        )
        % {"minutes": minutes}
    )
    return True


def _count_failure(ctx: Ctx) -> None:
    """Counts a wrong code towards the throttle."""
    if ctx.conv.failed_since is None:
        ctx.conv.failed_since = ctx.now
    ctx.conv.failed_codes += 1


def _invitation(ctx: Ctx) -> invitations.Invite | None:
    """The invitation this step is about, as it is now."""
    invitation_id = ctx.data("invitation")
    if not isinstance(invitation_id, int):
        return None
    return invitations.find_invitation(conn=ctx.conn, invitation_id=invitation_id)


def prompt_confirm(ctx: Ctx) -> None:
    """Shows who the chat is about to be linked to and asks to confirm."""
    invitation = _invitation(ctx)
    if invitation is None:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    _ask_confirm(ctx, invitation)


def _ask_confirm(ctx: Ctx, invitation: invitations.Invite) -> None:
    """Names the enterprise and role the code links to, with yes and no (and, on a linked
    chat, what it leaves)."""
    target = _link_words(ctx, invitation.enterprise_name, invitation.tax_code, invitation.role)
    text = _("This chat will be linked to:\n%(target)s\nIs that right?") % {"target": target}
    current = ctx.contact
    if current is not None:  # never unlinked without saying what it leaves
        now = _link_words(ctx, current.enterprise_name, current.tax_code, current.role)
        text = (
            _(
                "This chat is linked now to %(now)s, as %(name)s. If you go on, it leaves that"
                " and acts only for the new link."
            )
            % {"now": now, "name": current.full_name}
            + "\n"
            + text
        )
    ctx.say(text, [("yes", _("Yes, link it")), ("no", _("No, cancel"))])


def _link_words(ctx: Ctx, enterprise: str | None, tax_code: str | None, role: str) -> str:
    """ "Công ty A (mã số thuế …), với vai trò …", or the board's name with the role."""
    if enterprise is not None:
        return _("%(enterprise)s (tax code %(tax)s), as its %(role)s") % {
            "enterprise": enterprise,
            "tax": tax_code,
            "role": role_name(role),
        }
    return _("%(board)s, as a %(role)s") % {
        "board": ctx.settings.board_name,
        "role": role_name(role),
    }


def handle_confirm(ctx: Ctx) -> None:
    """Links the chat on "yes"; leaves it unlinked on "no"; asks again otherwise."""
    if ctx.choice == "no":
        ctx.goto(MAIN_MENU)
        ctx.say(
            _("Cancelled. Nothing was changed.")
            if ctx.contact is not None
            else _("Cancelled. This chat was not linked.")
        )
        show_menu(ctx)
        return
    if ctx.choice != "yes":
        hint_and_reprompt(ctx)
        return
    invitation_id = ctx.data("invitation")
    name = nfc(ctx.incoming.user_name)[:200] or _("Chat user %(id)s") % {"id": ctx.incoming.chat_id}
    contact = None
    if isinstance(invitation_id, int):
        contact = invitations.redeem(
            conn=ctx.conn,
            invitation_id=invitation_id,
            name=name,
            channel=ctx.incoming.channel,
            chat_id=ctx.incoming.chat_id,
            now=ctx.now,
        )
    if contact is None:  # used meanwhile (perhaps from another chat) or expired
        ctx.goto(MAIN_MENU)
        ctx.say(_("This invitation can no longer be used. Please ask the board for a new code."))
        show_menu(ctx)
        return
    ctx.contact = contact
    ctx.conv.failed_codes, ctx.conv.failed_since = 0, None
    ctx.result.menu_role = contact.role
    ctx.goto(MAIN_MENU)
    ctx.say(_("Done: this chat is now linked. Welcome, %(name)s.") % {"name": contact.full_name})
    ctx.say(  # Decree 13/2023/NĐ-CP: what is kept, why, and whom to ask, when it starts
        _(
            "About your personal data (Decree 13/2023/NĐ-CP): the board keeps your name, your"
            " phone number if given, and this chat, to run the emulation campaign and remind"
            " you of deadlines; nothing else, and for nothing else. To see, correct or erase"
            " them, contact %(office)s."
        )
        % {"office": reach(ctx.settings)}
    )
    show_menu(ctx)


flow = Flow(
    "onboarding",
    steps=(Step(CONFIRM, prompt=prompt_confirm, handle=handle_confirm, back=MAIN_MENU),),
    commands={"start": start},
)
