"""``thidua files prune``: documents of closed campaigns removed after the retention period."""

from __future__ import annotations

import click

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _, fmt_number
from storage import retention


@click.group("files")
def files() -> None:
    """Documents enterprises sent, kept under the data directory."""


@files.command("prune")
@click.option(
    "--keep-days", type=click.IntRange(min=30), help="Days after a campaign's last cut-off "
    "(default THIDUA_FILES_KEEP_DAYS)."
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Say what would go, remove nothing.")
@click.pass_obj
def files_prune(app: App, keep_days: int | None, dry_run: bool) -> None:
    """Remove the documents of campaigns closed longer than the retention period; their
    records (who sent what, when) stay."""
    keep = keep_days or app.settings.files_keep_days
    if keep is None:
        raise click.UsageError(
            _("No retention period: set THIDUA_FILES_KEEP_DAYS or give --keep-days.")
        )
    with writing(app) as session:
        found = retention.prune_documents(
            session, app.settings.data_dir / "files", app.now(), keep,
            actor=app.actor, dry_run=dry_run,
        )  # fmt: skip
    if not found.files:
        click.echo(_("No document is older than the retention period."))
        return
    message = (
        _("Would remove %(n)s documents (%(size)s MB) of the campaigns %(years)s.")
        if dry_run
        else _("Removed %(n)s documents (%(size)s MB) of the campaigns %(years)s.")
    )
    click.echo(
        message
        % {
            "n": fmt_number(found.files),
            "size": fmt_number(round(found.size / 1_000_000, 1)),
            "years": ", ".join(str(y) for y in found.years),
        }
    )


COMMANDS = [files]
