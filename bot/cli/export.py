"""``thidua export``: the aggregated lists as files, the same as the board gets in chat."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _
from storage import audit, campaigns, document_archive, dossier, exports, statistics


@click.command("export")
@click.argument(
    "what",
    type=click.Choice(
        ["registrations", "reports", "documents", "dossier", "dossier-template", "statistics"]
    ),
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--year", type=int, help="Campaign year (the latest by default).")
@click.option(
    "--all-submitted",
    is_flag=True,
    help="Dossier: every enterprise's newest list, not only those the board approved.",
)
@click.pass_obj
def export(app: App, what: str, file: Path, year: int | None, all_submitted: bool) -> None:
    """Write to FILE: registrations (.xlsx), report figures (.xlsx), report documents (.zip),
    the statistics form (Biểu 0603.N, .xlsx), the dossier upward (a tờ trình .docx, its list
    .xlsx beside it) or the tờ trình's template (.docx: edit it, set THIDUA_DOSSIER_TEMPLATE)."""
    if what == "dossier-template":
        dossier.write_template(file)
        click.echo(_("Wrote %(file)s: edit it in Word, keep the {{ … }} fields, then set"
                     " THIDUA_DOSSIER_TEMPLATE to its path.") % {"file": file})  # fmt: skip
        return
    with app.session() as session:  # read only: the service goes on writing meanwhile
        campaign = campaigns.require_campaign(session=session, year=year)
        today = app.now().astimezone(app.settings.tz).date()
        if what == "registrations":
            counts = exports.export_registrations(
                session=session, campaign=campaign, path=file, made_on=today,
                salaries=app.settings.salary_table,
            )  # fmt: skip
            written = sum(counts.values())
        elif what == "reports":
            written = exports.export_report_figures(
                session=session, campaign=campaign, path=file, made_on=today
            )
        elif what == "statistics":
            counted = statistics.write_statistics(
                session=session, campaign=campaign, path=file, made_on=today
            )
            written = sum(c.collectives + c.individuals for c in counted.lines.values())
        elif what == "dossier":
            listed = file.with_name(file.stem + "-danh-sach.xlsx")
            covered = dossier.write_dossier(
                session=session, campaign=campaign, path=file, list_path=listed, made_on=today,
                place=app.settings.dossier_place, template=app.settings.dossier_template,
                approved_only=not all_submitted,
            )  # fmt: skip
            written = len(covered.proposals)
            click.echo(_("The list it covers: %(file)s.") % {"file": listed})
            if covered.left_out:
                click.echo(
                    _("%(n)s enterprises' lists are not approved yet and are not included"
                      " (--all-submitted includes them).") % {"n": covered.left_out}
                )  # fmt: skip
        else:
            written = document_archive.zip_documents(
                session=session, campaign=campaign, root=app.settings.data_dir / "files",
                path=file, made_on=today, tz=app.settings.tz,
            )  # fmt: skip
    with writing(app) as session:
        audit.record(
            db=session, actor=app.actor, action=f"export.{what}", now=app.now(),
            target=f"campaign:{campaign.year}", details={"file": file.name},
        )  # fmt: skip
        session.commit()
    click.echo(_("Wrote %(file)s (%(n)s entries).") % {"file": file, "n": written})


COMMANDS = [export]
