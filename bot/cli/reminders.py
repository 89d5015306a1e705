"""``thidua reminders``: see who would be reminded of what, or plan and send now."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import click

from bot.compose import App
from bot.i18n import _
from bot.texts.outbox import Renderer
from scheduler import planner
from storage import outbox
from storage.models import Delivery
from storage.outbox import Target

NOWHERE = Target("-", "-")  # where the board's digests are planned when no board chat is set
BOARD_KINDS = ("digest", "closing")


@click.group("reminders")
def reminders() -> None:
    """Deadline reminders and the board's digests."""


@reminders.command("plan")
@click.option("--at", "at", help="Local time to plan for, e.g. 2026-04-10T08:30 (default: now).")
@click.pass_obj
def reminders_plan(app: App, at: str | None) -> None:
    """Print who would get what at a moment; nothing is saved or sent."""
    now = app.now()
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.ClickException(
                _("“%(value)s” is not a date and time. Write it as 2026-04-10T08:30.")
                % {"value": at}
            ) from None
        now = moment if moment.tzinfo else moment.replace(tzinfo=app.settings.tz)
    board = app.settings.board
    render = Renderer(app.settings, lambda: now)
    with app.session() as session:
        # without a board chat its digests are planned to nowhere, counted and not shown: the
        # operator hears what is skipped rather than not at all
        planned = planner.plan(session=session, now=now, tz=app.settings.tz, board=board or NOWHERE)
        rows = [r for r in planned if board is not None or r["kind"] not in BOARD_KINDS]
        skipped = len(planned) - len(rows)
        built = [Delivery(**row) for row in rows]  # type: ignore[arg-type]
        for row, message in zip(rows, render(session, built), strict=True):
            if message is None:
                continue
            first = message.text.splitlines()[0]
            step = "" if row["step"] is None else f" {row['step']}"
            click.echo(f"[{row['kind']}{step}] {row['channel']}:{row['chat_id']} — {first}")
        session.rollback()
    click.echo(_("%(n)s messages would be sent. Nothing was saved.") % {"n": len(rows)})
    if skipped:
        click.echo(
            _("%(n)s digests for the board are skipped: no board chat is set (THIDUA_BOARD_CHAT).")
            % {"n": skipped}
        )


@reminders.command("run-now")
@click.option("--rate", type=float, help="Messages per second overall (default from settings).")
@click.pass_obj
def reminders_run_now(app: App, rate: float | None) -> None:
    """Plan what is due now and send it through the configured channels."""
    channels = app.channels(app.core(), on_board_notice=lambda: None)
    if not channels:
        raise click.ClickException(
            _(
                "Sending needs THIDUA_TELEGRAM_TOKEN or THIDUA_ZALO_TOKEN. Use “thidua reminders"
                " plan” to see what would be sent."
            )
        )

    async def run() -> None:
        service = app.reminder_service({c.name: c.port for c in channels}, rate=rate)
        try:
            if not service.acquire():
                raise click.ClickException(
                    _("Another process is sending reminders now. Try again later.")
                )
            outbox.release_claims(app.engine, app.now(), older_than=timedelta(0))  # ours now
            stats = await service.run_once()
        finally:
            await service.stop()
            for channel in channels:
                await channel.stop()
                await channel.close()
        click.echo(
            _(
                "Sent %(sent)s, retrying later %(retried)s, blocked %(blocked)s, failed "
                "%(failed)s, cancelled %(cancelled)s."
            )
            % {
                "sent": stats.sent,
                "retried": stats.retried,
                "blocked": stats.blocked,
                "failed": stats.failed,
                "cancelled": stats.cancelled,
            }
        )

    asyncio.run(run())


COMMANDS = [reminders]
