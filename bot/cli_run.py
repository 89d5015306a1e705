"""``thidua run`` and ``thidua demo seed``: the main job and its demo data."""

from __future__ import annotations

import click

from bot.context import AppContext
from bot.demo import seed_demo
from bot.i18n import _
from storage import audit, campaigns, registry


def _seed(app: AppContext) -> None:
    """Seeds the demo registry and says what it created."""
    with app.session() as session:
        summary = seed_demo(
            session=session, now=app.now(), tz=app.settings.tz, board_name=app.settings.board_name
        )
        if summary.enterprises or summary.campaign_year:
            audit.record(session=session, actor=app.actor, action="demo.seed", now=app.now())
            session.commit()
    if summary.campaign_year:
        click.echo(_("Created the %(year)s campaign.") % {"year": summary.campaign_year})
    if summary.enterprises:
        click.echo(
            _("Created %(n)s demo enterprises, each with one contact.") % {"n": summary.enterprises}
        )
    else:
        click.echo(_("The registry already has enterprises; no demo enterprises were added."))


@click.group("demo")
def demo() -> None:
    """Demo data for trying the product."""


@demo.command("seed")
@click.pass_obj
def demo_seed(app: AppContext) -> None:
    """Create this year's campaign and twenty demo enterprises with contacts."""
    _seed(app)


@click.command("run")
@click.pass_obj
def run(app: AppContext) -> None:
    """Run the service: Telegram when a token is set, otherwise the local demo."""
    engine_url = app.engine.url.render_as_string(hide_password=True)
    click.echo(_("Database ready: %(url)s") % {"url": engine_url})
    if app.settings.telegram_token is None:
        click.echo(_("No Telegram token is set (THIDUA_TELEGRAM_TOKEN): starting the local demo."))
        _seed(app)
        with app.session() as session:
            count = len(registry.list_enterprises(session=session))
            current = campaigns.get_campaign(session=session)
        click.echo(
            _("%(n)s enterprises are registered; the current campaign is %(year)s.")
            % {"n": count, "year": current.year if current else "—"}
        )
        click.echo(
            _(
                "The chat channels arrive in the next release. Meanwhile try:"
                " thidua campaign show, thidua enterprises list, thidua invite create"
                " --enterprise <tax code>."
            )
        )
        return
    raise click.ClickException(
        _(
            "The Telegram channel is not available in this release yet."
            " Unset the token to run the demo."
        )
    )


COMMANDS = [run, demo]
