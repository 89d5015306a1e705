"""The ``thidua`` command: builds the context once and hands it to each subcommand."""

from __future__ import annotations

import sys

import click
from pydantic import ValidationError

from bot import cli_campaign, cli_db, cli_registry, cli_run
from bot.context import AppContext
from bot.i18n import _, use_language
from bot.problems import render
from bot.settings import Settings, describe_error
from storage.identifiers import IdentifierError
from storage.registry import RegistryError
from storage.tabular import TableFileError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(["vi", "en"]), help="Language of the output.")
@click.pass_context
def cli(ctx: click.Context, lang: str | None) -> None:
    """thidua-bot: the emulation campaign of the industrial-zones board, in chat."""
    try:
        settings = Settings()
    except ValidationError as error:
        click.echo(f"Cấu hình không hợp lệ / invalid settings: {describe_error(error)}", err=True)
        ctx.exit(2)
    ctx.obj = AppContext(settings=settings)
    ctx.with_resource(use_language(lang or settings.locale))


for module in (cli_run, cli_db, cli_registry, cli_campaign):
    for command in module.COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI and turns known errors into one clear line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="thidua", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo(_("Cancelled."), err=True)
        return 1
    except (RegistryError, TableFileError) as error:
        click.echo(_("Error: %(reason)s") % {"reason": render(error.code, error.params)}, err=True)
        return 2
    except IdentifierError as error:
        click.echo(
            _("Error: %(reason)s") % {"reason": render(error.code, {"value": error.value})},
            err=True,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
