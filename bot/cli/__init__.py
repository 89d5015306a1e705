"""The ``thidua`` command: reads the settings once and hands the App to each subcommand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from bot.cli import (
    backup,
    campaign,
    db,
    export,
    person,
    registry,
    reminders,
    results,
    retention,
    run,
    zalo,
)
from bot.compose import App
from bot.i18n import _, use_language
from bot.logs import guard_streams
from bot.settings import Settings, describe_error
from bot.texts.problems import render
from storage.backup import BackupError
from storage.identifiers import IdentifierError
from storage.registry import RegistryError
from storage.tabular import TableFileError
from storage.types import utcnow


class _Group(click.Group):
    """Reports known errors inside the command's context, so in the chosen language."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (RegistryError, TableFileError, BackupError) as error:
            reason = render(error.code, error.params)
        except IdentifierError as error:
            reason = render(error.code, {"value": error.value})
        except OSError as error:  # a read-only or missing folder, a full disk, a busy port
            reason = _os_problem(error)
        except OperationalError as error:
            if not any(w in str(error.orig) for w in ("unable to open", "readonly", "disk")):
                raise
            reason = _(
                "The database cannot be opened or written (%(error)s). Check"
                " THIDUA_DATABASE_URL and that this user may write in its folder."
            ) % {"error": str(error.orig)}
        click.echo(_("Error: %(reason)s") % {"reason": reason}, err=True)
        ctx.exit(2)


def _os_problem(error: OSError) -> str:
    """One line for what the system refused, naming the path when there is one."""
    what = error.strerror or str(error)
    if error.filename is None:
        return _("The system refused: %(error)s.") % {"error": what}
    return _(
        "Cannot use %(path)s: %(error)s. Check that the folder exists and that this user may"
        " write there (THIDUA_DATA_DIR for the service's data)."
    ) % {"path": error.filename, "error": what}


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(["vi", "en"]), help="Language of the output.")
@click.pass_context
def cli(ctx: click.Context, lang: str | None) -> None:
    """thidua-bot: the emulation campaign of the industrial-zones board, in chat."""
    try:
        settings = Settings()
    except ValidationError as error:
        click.echo(f"Cấu hình không hợp lệ / invalid settings: {describe_error(error)}", err=True)
        ctx.exit(2)
    guard_streams(settings.secrets())  # never printed, whatever prints it
    clock = ctx.obj.get("clock") if isinstance(ctx.obj, dict) else None
    ctx.obj = App(settings=settings, clock=clock or utcnow)
    ctx.with_resource(use_language(lang or settings.locale))


for module in (
    run,
    db,
    registry,
    campaign,
    reminders,
    export,
    results,
    backup,
    person,
    retention,
    zalo,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None, *, clock: Callable[[], datetime] | None = None) -> int:
    """Runs the CLI; known errors become one clear line and exit code 2."""
    try:
        result = cli.main(
            args=argv, prog_name="thidua", standalone_mode=False, obj={"clock": clock}
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo(_("Cancelled."), err=True)
        return 1
    return result if isinstance(result, int) else 0
