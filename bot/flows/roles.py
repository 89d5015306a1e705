"""Who may act: checked in every board and admin step, on every input, not only by the menus."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU
from bot.flows.menu import show_menu
from bot.i18n import _
from storage.models import Role

STAFF = (Role.BOARD, Role.ADMIN)  # the board's steps (Step.roles): lists, review, reminders
ADMINS = (Role.ADMIN,)  # the administrators' steps: broadcast, registry import


def refuse(ctx: Ctx, *roles: Role) -> bool:
    """True (and the person told why, back at the menu) unless the chat's person holds a role."""
    if ctx.is_role(*roles):
        return False
    if ctx.conv.step != MAIN_MENU:
        ctx.goto(MAIN_MENU)  # before the menu is shown, so its buttons are the current ones
    if roles == (Role.ADMIN,):
        ctx.say(_("This command is only for the board's administrators."))
    else:
        ctx.say(_("This command is only for the board's staff."))
    show_menu(ctx)
    return True
