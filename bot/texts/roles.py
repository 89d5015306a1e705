"""The roles' names as people read them."""

from __future__ import annotations

from bot.i18n import N_, _
from storage.models import Role

ROLE_NAMES = {
    Role.CONTACT: N_("enterprise contact"),
    Role.BOARD: N_("board member"),
    Role.ADMIN: N_("administrator"),
}


def role_name(role: str) -> str:
    """A role in the active language."""
    return _(ROLE_NAMES[Role(role)])
