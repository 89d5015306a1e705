"""``thidua run``, ``thidua chat`` and ``thidua demo seed``: the service (built by bot.compose)
and its terminal demo."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

import click

from bot.channels import StartFailed
from bot.channels.terminal import CHANNEL, TerminalChannel
from bot.compose import App
from bot.demo import seed_demo
from bot.i18n import _
from bot.logs import configure_logging
from scheduler.dispatcher import Port
from storage import audit, invitations, links, registry
from storage.models import Role


def _seed(app: App) -> None:
    """Seeds the demo registry and says what it created."""
    with app.session() as session:
        summary = seed_demo(
            session=session, now=app.now(), tz=app.settings.tz, board_name=app.settings.board_name
        )
        if summary.enterprises or summary.campaign_year:
            audit.record(db=session, actor=app.actor, action="demo.seed", now=app.now())
            session.commit()
    if summary.campaign_year:
        click.echo(_("Created the %(year)s campaign.") % {"year": summary.campaign_year})
    if summary.enterprises:
        click.echo(
            _("Created %(n)s demo enterprises, each with one contact.") % {"n": summary.enterprises}
        )
    else:
        click.echo(_("The registry already has enterprises; no demo enterprises were added."))


def terminal_chat(
    app: App, chat_id: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> TerminalChannel:
    """The terminal chat; after each line the outbox runs once, so what the board decided (or
    a reminder due now) appears in the terminal rather than waiting for a channel."""
    terminal = TerminalChannel(
        app.core(),
        chat_id=chat_id,
        user_name=getpass.getuser(),
        stdin=stdin,
        stdout=stdout,
        outbox=app.settings.data_dir / "outbox",
    )
    service = app.reminder_service({CHANNEL: Port(terminal.send_queued, rate=1000, per_chat=0)})
    terminal.deliver = lambda: asyncio.run(service.run_once())
    return terminal


@click.group("demo")
def demo() -> None:
    """Demo data for trying the product."""


@demo.command("seed")
@click.pass_obj
def demo_seed(app: App) -> None:
    """Create this year's campaign and twenty demo enterprises with contacts."""
    _seed(app)


@click.command("chat")
@click.option("--as", "as_contact", type=int, help="Act as contact # (links this terminal to it).")
@click.pass_obj
def chat(app: App, as_contact: int | None) -> None:
    """Talk to the bot in this terminal: numbers pick choices, @path sends a file."""
    chat_id = "local"
    if as_contact is not None:
        chat_id = f"local-{as_contact}"
        with app.session() as session:
            contact = registry.get_contact(session=session, contact_id=as_contact)
            if contact is None:
                raise click.ClickException(_("No contact #%(id)s.") % {"id": as_contact})
            links.link_chat(
                conn=session.connection(),
                contact_id=as_contact,
                channel=CHANNEL,
                chat_id=chat_id,
                now=app.now(),
            )
            audit.record(
                db=session,
                actor=app.actor,
                action="contact.link",
                now=app.now(),
                target=f"{CHANNEL}:{chat_id}",
                details={"contact": as_contact},
            )
            session.commit()
    click.echo(
        _("Chat in the terminal: type a number to choose, /help for commands, Ctrl-D to leave.")
    )
    terminal_chat(app, chat_id).run(first="/start")


@click.command("run")
@click.pass_obj
def run(app: App) -> None:
    """Run the service: every channel whose token is set (Telegram, Zalo), otherwise the
    local demo chat."""
    engine_url = app.engine.url.render_as_string(hide_password=True)
    click.echo(_("Database ready: %(url)s") % {"url": engine_url})
    if app.settings.channels_configured:
        configure_logging(
            secrets=app.settings.secrets(), json_lines=app.settings.log_format == "json"
        )
        names = [
            name
            for name, token in (("Telegram", app.settings.telegram_token),
                                ("Zalo", app.settings.zalo_token))
            if token is not None
        ]  # fmt: skip
        click.echo(_("Starting the channels: %(names)s.") % {"names": ", ".join(names)})
        try:
            app.run_channels()
        except StartFailed as failed:
            _stop_with(str(failed))
        return
    click.echo(
        _(
            "No Telegram or Zalo token is set (THIDUA_TELEGRAM_TOKEN, THIDUA_ZALO_TOKEN):"
            " starting the local demo."
        )
    )
    _seed(app)
    with app.session() as session:
        linked = links.contact_for_chat(session=session, channel=CHANNEL, chat_id="local")
        first = None
        if linked is None:
            enterprises = registry.list_enterprises(session=session)
            if enterprises:
                enterprise = enterprises[0][0]
                issued = invitations.create_invitation(
                    session=session,
                    role=Role.CONTACT,
                    created_by=app.actor,
                    now=app.now(),
                    enterprise=enterprise,
                )
                session.commit()
                first = f"/start {issued.code}"
    click.echo(
        _(
            "This is the conversation an enterprise contact has on Telegram. Type a number to"
            " choose, /help for commands, Ctrl-D to leave."
        )
    )
    if first:
        click.echo(f"> {first}")
    terminal_chat(app, "local").run(first=first or "/start")


def _stop_with(reason: str) -> None:
    """One line instead of a traceback, and exit code 2 (a setting to correct)."""
    click.echo(_("Error: %(reason)s") % {"reason": reason}, err=True)
    click.get_current_context().exit(2)


COMMANDS = [run, chat, demo]
