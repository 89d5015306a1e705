"""``thidua backup`` and ``thidua restore``: the whole deployment in one archive, and back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.compose import App
from bot.i18n import _, fmt_instant, fmt_number
from storage import audit, backup
from storage.engine import session_for
from storage.migrate import upgrade


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def backup_command(app: App, file: Path) -> None:
    """Write the database and the stored documents to FILE (.tar.gz), while the service runs."""
    summary = backup.backup(app.engine, app.settings.data_dir, file, app.now())
    with session_for(app.engine) as session:
        audit.record(
            db=session, actor=app.actor, action="backup", now=app.now(), target=file.name,
            details={"documents": summary.documents},
        )  # fmt: skip
        session.commit()
    click.echo(
        _("Wrote %(file)s: the %(database)s database and %(n)s documents.")
        % {"file": file, "database": summary.database, "n": fmt_number(summary.documents)}
    )


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def restore_command(app: App, file: Path) -> None:
    """Put a backup FILE in place of this deployment, which must be empty (stop the service)."""
    summary = backup.restore(app.engine, app.settings.data_dir, file)
    upgrade(app.engine)  # an archive of an older version is brought up to this one
    click.echo(
        _("Restored the backup of %(when)s: the %(database)s database and %(n)s documents.")
        % {
            "when": fmt_instant(datetime.fromisoformat(summary.created_at), app.settings.tz),
            "database": summary.database,
            "n": fmt_number(summary.documents),
        }
    )


COMMANDS = [backup_command, restore_command]
