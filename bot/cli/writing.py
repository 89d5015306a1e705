"""Sessions for commands that write while the service may be running."""

from __future__ import annotations

import click
from sqlmodel import Session

from bot.compose import App
from bot.i18n import _


def writing(app: App) -> Session:
    """A session that waits for the service's turn on SQLite, saying so when it waits."""
    return app.write_session(on_wait=_say_waiting)


def _say_waiting() -> None:
    click.echo(_("The database is busy with the running service; waiting for its turn…"), err=True)
