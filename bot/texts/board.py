"""How people reach the board's office: its name, phone and e-mail from the settings."""

from __future__ import annotations

from bot.i18n import _
from bot.settings import Settings


def reach(settings: Settings) -> str:
    """ "Văn phòng Ban Quản lý… (điện thoại 0222 3 888 888, email vp@…)", as far as set."""
    ways = []
    if settings.board_phone:
        ways.append(_("phone %(phone)s") % {"phone": settings.board_phone})
    if settings.board_email:
        ways.append(_("e-mail %(email)s") % {"email": settings.board_email})
    return f"{settings.board_contact} ({', '.join(ways)})" if ways else settings.board_contact
