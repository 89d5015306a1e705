"""``thidua results``: what was decided for each proposal, by a workbook the board fills."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _
from bot.texts.results import past_lines, report_lines
from storage import audit, campaigns, results, tabular
from storage.models import Regime
from storage.registry_import import Outcome
from storage.results_sheet import export_results, import_results


@click.group("results")
def results_group() -> None:
    """Each proposal's result: recognised or not, what was conferred, the decision."""


@results_group.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--year", type=int, help="Campaign year (the latest by default).")
@click.pass_obj
def results_export(app: App, file: Path, year: int | None) -> None:
    """Write the campaign's proposals to FILE (.xlsx), with result columns to fill."""
    with app.session() as session:
        campaign = campaigns.require_campaign(session=session, year=year)
        today = app.now().astimezone(app.settings.tz).date()
        written = export_results(session=session, campaign=campaign, path=file, made_on=today)
    click.echo(_("Wrote %(file)s (%(n)s entries).") % {"file": file, "n": written})


@results_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--year", type=int, help="Campaign year (the latest by default).")
@click.option("--dry-run", is_flag=True, help="Check the file and report, but save nothing.")
@click.option("--no-notice", is_flag=True, help="Do not tell the enterprises (yet).")
@click.pass_obj
def results_import(app: App, file: Path, year: int | None, dry_run: bool, no_notice: bool) -> None:
    """Record the results a filled FILE gives; each enterprise whose results changed is told."""
    max_bytes = app.settings.import_max_mb * 1024 * 1024
    tabular.read_before_writing(file, max_bytes=max_bytes)  # the lock is held for writing only
    with writing(app) as session:
        campaign = campaigns.require_campaign(session=session, year=year)
        report = import_results(
            session=session, campaign=campaign, path=file, actor=app.actor, now=app.now(),
            dry_run=dry_run, max_bytes=max_bytes,
        )  # fmt: skip
        told = 0
        if report.saved:
            if report.touched and not no_notice:
                told = results.notify(session, campaign, report.touched, app.now())
            audit.record(
                db=session, actor=app.actor, action="results.import", now=app.now(),
                target=f"campaign:{campaign.year}",
                details={**{o.value: report.count(o) for o in Outcome}, "file": file.name},
            )  # fmt: skip
            session.commit()
    for line in report_lines(report):
        click.echo(line)
    if report.saved and report.touched:
        click.echo(
            _("%(n)s enterprises have new results; %(told)s messages to their contacts queued.")
            % {"n": len(report.touched), "told": told}
        )
    if report.count(Outcome.REJECTED):
        raise click.exceptions.Exit(1)


@results_group.command("lookup")
@click.argument("name")
@click.pass_obj
def results_lookup(app: App, name: str) -> None:
    """Awards on record for people or collectives whose name holds NAME, across years."""
    with app.session() as session:
        campaign = campaigns.get_campaign(session=session)
        regime = campaign.regime if campaign else Regime.ND152_2025.value
        for line in past_lines(results.lookup(session, name), regime):
            click.echo(line)


COMMANDS = [results_group]
