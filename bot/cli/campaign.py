"""``thidua campaign``: create a year's campaign and read its deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _, fmt_instant, last_moment
from bot.texts.milestones import deadline_words, milestone_kind, milestone_name, regime_name
from storage import audit, campaigns, registrations, registry
from storage.models import MilestoneKind, Regime
from storage.registry import RegistryError


class CutoffType(click.ParamType):
    """A day (15/04/2026 or 2026-04-15: on time until that day begins) or an exact instant."""

    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> object:
        text = str(value).strip()
        for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).date()  # noqa: DTZ007  (a calendar day)
            except ValueError:
                pass
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            self.fail(_("“%(value)s” is not a date. Write it as 15/04/2026.") % {"value": text})


class MilestoneType(click.ParamType):
    """A milestone in English or Vietnamese words: registration / đăng ký, midyear / sơ kết,
    report / báo cáo."""

    name = "MILESTONE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> object:
        kind = milestone_kind(str(value))
        if kind is None:
            self.fail(
                _(
                    "“%(value)s” is not a milestone: registration (đăng ký), midyear (sơ kết) or"
                    " report (báo cáo)."
                )
                % {"value": value}
            )
        return kind.value


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _to_instant(value: date | datetime | None, app: App) -> datetime | None:
    """Turns a day into the local midnight starting it; a naive time is local."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=app.settings.tz)
    return campaigns.local_midnight(value, app.settings.tz)


def _end_of(value: date | datetime, app: App) -> datetime:
    """The cut-off that keeps a day on time (a given instant is taken as it is)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=app.settings.tz)
    return campaigns.local_midnight(value + timedelta(days=1), app.settings.tz)


@click.group("campaign")
def campaign() -> None:
    """The year's emulation campaign and its deadlines."""


@campaign.command("create")
@click.argument("year", type=int)
@click.option("--registration-before", type=CutoffType(), help="Registrations due before this day.")
@click.option("--midyear-before", type=CutoffType(), help="Mid-year reports due before this day.")
@click.option("--no-midyear", is_flag=True, help="No mid-year review milestone.")
@click.option("--report-before", type=CutoffType(), help="Year-end reports due before this day.")
@click.option("--regime", type=click.Choice([r.value for r in Regime]), help="Legal regime.")
@click.option("--board-name", help="The board's name (default from settings).")
@click.option(
    "--from",
    "previous",
    type=int,
    help="Start from that year's campaign: its deadlines a year on, its reminder plan.",
)
@click.pass_obj
def campaign_create(
    app: App,
    year: int,
    registration_before: date | None,
    midyear_before: date | None,
    no_midyear: bool,
    report_before: date | None,
    regime: str | None,
    board_name: str | None,
    previous: int | None,
) -> None:
    """Create the campaign of YEAR with the plan's deadlines unless overridden (or those of
    the campaign --from a previous year). Enterprises, contacts and linked chats stay."""
    cutoffs: dict[MilestoneKind, datetime | None] = {}
    for kind, value in (
        (MilestoneKind.REGISTRATION, registration_before),
        (MilestoneKind.MIDYEAR, midyear_before),
        (MilestoneKind.REPORT, report_before),
    ):
        if value is not None:
            cutoffs[kind] = _to_instant(value, app)
    if no_midyear:
        cutoffs[MilestoneKind.MIDYEAR] = None
    with writing(app) as session:
        if previous is not None:
            created = campaigns.create_from(
                session=session, year=year, previous=previous, now=app.now(),
                tz=app.settings.tz, cutoffs=cutoffs, regime=Regime(regime) if regime else None,
                board_name=board_name,
            )  # fmt: skip
        else:
            created = campaigns.create_campaign(
                session=session,
                year=year,
                board_name=board_name or app.settings.board_name,
                now=app.now(),
                tz=app.settings.tz,
                cutoffs=cutoffs,
                regime=Regime(regime) if regime else None,
            )
        audit.record(
            db=session,
            actor=app.actor,
            action="campaign.create",
            now=app.now(),
            target=f"campaign:{year}",
        )
        session.commit()
    click.echo(_("The %(year)s campaign was created.") % {"year": created.year})
    if previous is not None:
        with app.session() as session:
            kept = registry.counts(session=session)
        click.echo(
            _("From %(previous)s: its deadlines a year on and its reminder plan. Kept:"
              " %(enterprises)s enterprises, %(contacts)s contacts, %(chats)s linked chats;"
              " each enterprise can start its list from last year's in chat.")
            % {"previous": previous, **kept}
        )  # fmt: skip
    _show(app, year)


@campaign.command("show")
@click.argument("year", type=int, required=False)
@click.pass_obj
def campaign_show(app: App, year: int | None) -> None:
    """Show a campaign's deadlines (the latest campaign by default)."""
    _show(app, year)


def _show(app: App, year: int | None) -> None:
    """Prints the campaign heading, its legal basis and each deadline in words."""
    tz, now = app.settings.tz, app.now()
    with app.session() as session:
        found = campaigns.get_campaign(session=session, year=year)
        if found is None:
            if year is None:
                raise RegistryError("campaign_missing")
            raise click.ClickException(_("There is no %(year)s campaign.") % {"year": year})
        stones = campaigns.milestones(session=session, campaign=found)
    click.echo(
        _("Emulation campaign %(year)s — %(board)s")
        % {"year": found.year, "board": found.board_name}
    )
    click.echo(_("Legal basis: %(regime)s") % {"regime": regime_name(found.regime)})
    for stone in stones:
        click.echo(
            _("- %(name)s: submit before %(cutoff)s — %(deadline)s")
            % {
                "name": milestone_name(stone.kind),
                "cutoff": fmt_instant(stone.due_at, tz),
                "deadline": deadline_words(stone.due_at, now, tz),
            }
        )


@campaign.command("extend")
@click.option("--enterprise", "tax_code", required=True, help="Tax code of the enterprise.")
@click.option(
    "--until", "until", type=CutoffType(), required=True, help="Last day on time (inclusive)."
)
@click.option(
    "--milestone",
    type=MilestoneType(),
    default=MilestoneKind.REGISTRATION.value,
    show_default=True,
)
@click.option("--year", type=int, help="Campaign year (the latest by default).")
@click.pass_obj
def campaign_extend(
    app: App, tax_code: str, until: date | datetime, milestone: str, year: int | None
) -> None:
    """Give one enterprise until the end of a later day for a milestone."""
    with writing(app) as session:
        found = campaigns.get_campaign(session=session, year=year)
        if found is None:
            raise RegistryError("campaign_missing")
        campaigns.check_day(campaign=found, day=_day_of(until))
        cutoff = _end_of(until, app)
        enterprise = registry.require_enterprise(session=session, tax_code=tax_code)
        registrations.extend(
            session=session,
            campaign=found,
            enterprise=enterprise,
            kind=MilestoneKind(milestone),
            until=cutoff,
            granted_by=app.actor,
            now=app.now(),
        )
        audit.record(
            db=session,
            actor=app.actor,
            action="campaign.extend",
            now=app.now(),
            target=enterprise.tax_code,
            details={"milestone": milestone, "until": cutoff.isoformat(), "year": found.year},
        )
        session.commit()
    click.echo(
        _("%(enterprise)s may submit the %(milestone)s until %(when)s.")
        % {
            "enterprise": enterprise.name,
            "milestone": milestone_name(milestone).lower(),
            "when": fmt_instant(last_moment(cutoff), app.settings.tz),
        }
    )


@campaign.command("set")
@click.argument("milestone", type=MilestoneType())
@click.argument("last_day", type=CutoffType())
@click.option("--year", type=int, help="Campaign year (the latest by default).")
@click.option("--yes", is_flag=True, help="Do not ask when the move closes it for some.")
@click.pass_obj
def campaign_set(
    app: App, milestone: str, last_day: date | datetime, year: int | None, yes: bool
) -> None:
    """Move MILESTONE for everyone: on time until the end of LAST_DAY."""
    with writing(app) as session:
        found = campaigns.get_campaign(session=session, year=year)
        if found is None:
            raise RegistryError("campaign_missing")
        campaigns.check_day(campaign=found, day=_day_of(last_day))
        cutoff = _end_of(last_day, app)
        kind = MilestoneKind(milestone)
        campaigns.check_order(session=session, campaign=found, kind=kind, cutoff=cutoff)
        closed = campaigns.closed_by_move(
            session=session, campaign=found, kind=kind, cutoff=cutoff, now=app.now(),
        )  # fmt: skip
        if closed and not yes:
            click.confirm(
                _("This closes the %(name)s at once for %(n)s enterprises that have not sent it."
                  " Move it anyway?") % {"name": milestone_name(milestone).lower(), "n": closed},
                abort=True,
            )  # fmt: skip
        campaigns.set_deadline(session=session, campaign=found, kind=kind, cutoff=cutoff)
        audit.record(
            db=session,
            actor=app.actor,
            action="campaign.set",
            now=app.now(),
            target=f"campaign:{found.year}",
            details={"milestone": milestone, "cutoff": cutoff.isoformat()},
        )
        session.commit()
        year = found.year
    _show(app, year)


COMMANDS = [campaign]
