"""``thidua db``: schema migrations by hand, for operators."""

from __future__ import annotations

import click

from bot.compose import App
from bot.i18n import _
from storage import migrate


@click.group("db")
def db() -> None:
    """Database schema: upgrade, downgrade, current revision."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(app: App, revision: str) -> None:
    """Migrate the database forward (to head by default)."""
    app.migrate_on_open = False
    migrate.upgrade(app.engine, revision)
    click.echo(
        _("Database is at revision %(rev)s.") % {"rev": migrate.current_revision(app.engine)}
    )


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(app: App, revision: str) -> None:
    """Migrate the database back to REVISION (for example -1)."""
    app.migrate_on_open = False
    migrate.downgrade(app.engine, revision)
    rev = migrate.current_revision(app.engine) or _("(empty)")
    click.echo(_("Database is at revision %(rev)s.") % {"rev": rev})


@db.command("current")
@click.pass_obj
def db_current(app: App) -> None:
    """Show the database's revision and the newest one this version ships."""
    app.migrate_on_open = False
    current = migrate.current_revision(app.engine) or _("(empty)")
    click.echo(
        _("Database revision: %(current)s; newest available: %(head)s.")
        % {"current": current, "head": migrate.head_revision()}
    )


COMMANDS = [db]
