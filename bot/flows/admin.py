"""Admin commands typed with their arguments: invitations and campaign deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.roles import ADMINS, refuse
from bot.i18n import _, fmt_date, fmt_instant, last_moment
from bot.texts.milestones import deadline_words, milestone_kind, milestone_name
from bot.texts.problems import render
from storage import audit, campaigns, invitations, registrations, registry
from storage.identifiers import IdentifierError
from storage.models import Campaign, MilestoneKind, Role
from storage.registry import RegistryError

SET_CONFIRM = "adm.set_confirm"


def invite(ctx: Ctx) -> None:
    """/invite <tax code> for an enterprise contact, /invite board, /invite admin."""
    if refuse(ctx, Role.ADMIN):
        return
    argument = ctx.incoming.args.strip()
    if not argument:
        ctx.say(
            _(
                "Type /invite followed by the enterprise's tax code, or /invite board, or /invite "
                "admin."
            )
        )
        return
    role, enterprise = Role.CONTACT, None
    if argument.lower() in (Role.BOARD, Role.ADMIN):
        role = Role(argument.lower())
    else:
        try:
            enterprise = registry.require_enterprise(session=ctx.session, tax_code=argument)
        except IdentifierError as error:
            ctx.say(render(error.code, {"value": error.value}))
            return
        except RegistryError as error:
            ctx.say(render(error.code, error.params))
            return
    issued = invitations.create_invitation(
        session=ctx.session, role=role, created_by=ctx.actor, now=ctx.now,
        valid_for=timedelta(days=ctx.settings.invite_days), enterprise=enterprise,
    )  # fmt: skip
    audit.record(
        db=ctx.session, actor=ctx.actor, action="invite.create", now=ctx.now,
        target=f"invitation:{issued.invitation.id}",
        details={"role": role.value, "enterprise": enterprise.tax_code if enterprise else None},
    )  # fmt: skip
    lines = [_("Invitation code: %(code)s") % {"code": issued.code}]
    if ctx.settings.telegram_bot_username:
        lines.append(
            _("Telegram link: https://t.me/%(bot)s?start=%(code)s")
            % {"bot": ctx.settings.telegram_bot_username, "code": issued.code}
        )
    lines.append(_("Or type in the chat: /start %(code)s") % {"code": issued.code})
    lines.append(
        _("Valid until %(when)s, for one use only.")
        % {"when": fmt_instant(issued.invitation.expires_at, ctx.settings.tz)}
    )
    ctx.say("\n".join(lines))


def campaign(ctx: Ctx) -> None:
    """Shows the deadlines; admins extend one enterprise: /campaign extend <MST> <dd/mm/yyyy>."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    found = campaigns.get_campaign(session=ctx.session)
    if found is None:
        ctx.say(_("The board has not opened a campaign yet."))
        return
    words = ctx.incoming.args.split()
    if words and words[0].lower() == "extend":
        _extend(ctx, found, words[1:])
        return
    if words and words[0].lower() == "set":
        _set(ctx, found, words[1:])
        return
    lines = [
        _("Emulation campaign %(year)s — %(board)s")
        % {"year": found.year, "board": found.board_name}
    ]
    lines += [
        f"• {milestone_name(stone.kind)}: {deadline_words(stone.due_at, ctx.now, ctx.settings.tz)}"
        for stone in campaigns.milestones(session=ctx.session, campaign=found)
    ]
    lines.append(
        _(
            "To give one enterprise more time: /campaign extend <tax code> <last day, dd/mm/yyyy> "
            "[registration|midyear|report]"
        )
    )
    lines.append(
        _("To move a deadline for everyone: /campaign set <registration|midyear|report> <last day>")
    )
    ctx.say("\n".join(lines))


def _set(ctx: Ctx, found: Campaign, words: list[str]) -> None:
    """/campaign set <milestone> <last day>: moves a milestone for everyone; a move that would
    close it at once for enterprises still owing it asks first, with how many."""
    if refuse(ctx, Role.ADMIN):
        return
    kind, day = _kind_and_day(words)
    if kind is None or day is None:
        ctx.say(
            _("Write it as: /campaign set registration 20/04/2026 (or đăng ký, sơ kết, báo cáo)")
        )
        return
    cutoff = campaigns.local_midnight(day + timedelta(days=1), ctx.settings.tz)
    try:
        campaigns.check_day(campaign=found, day=day)
        campaigns.check_order(session=ctx.session, campaign=found, kind=kind, cutoff=cutoff)
    except RegistryError as error:
        ctx.say(render(error.code, error.params))
        return
    closed = campaigns.closed_by_move(
        session=ctx.session, campaign=found, kind=kind, cutoff=cutoff, now=ctx.now
    )
    if closed:
        ctx.goto(SET_CONFIRM, kind=kind.value, day=day.isoformat(), closed=closed)
        prompt_set_confirm(ctx)
        return
    _apply_set(ctx, found, kind, cutoff)


def prompt_set_confirm(ctx: Ctx) -> None:
    """Says whom the move closes, and asks."""
    day = date.fromisoformat(str(ctx.data("day")))
    ctx.say(
        _(
            "Moving the %(name)s to %(date)s closes it at once for %(n)s enterprises that have"
            " not sent it yet. Move it anyway?"
        )
        % {
            "name": milestone_name(str(ctx.data("kind"))).lower(),
            "date": fmt_date(campaigns.local_midnight(day, ctx.settings.tz), ctx.settings.tz),
            "n": ctx.data("closed"),
        },
        [("yes", _("Yes, move it")), ("no", _("No, keep the deadline"))],
    )


def handle_set_confirm(ctx: Ctx) -> None:
    """Moves the deadline on "yes"; nothing changes on "no"."""
    if ctx.choice not in ("yes", "no"):
        hint_and_reprompt(ctx)
        return
    found = campaigns.get_campaign(session=ctx.session)
    kind, day = MilestoneKind(str(ctx.data("kind"))), date.fromisoformat(str(ctx.data("day")))
    ctx.goto(MAIN_MENU)
    if ctx.choice == "no" or found is None:
        ctx.say(_("The deadline was not moved."))
        show_menu(ctx)
        return
    _apply_set(ctx, found, kind, campaigns.local_midnight(day + timedelta(days=1), ctx.settings.tz))
    show_menu(ctx)


def _apply_set(ctx: Ctx, found: Campaign, kind: MilestoneKind, cutoff: datetime) -> None:
    """Moves the milestone, audited, and says the new deadline."""
    try:
        campaigns.set_deadline(session=ctx.session, campaign=found, kind=kind, cutoff=cutoff)
    except RegistryError as error:
        ctx.say(render(error.code, error.params))
        return
    audit.record(
        db=ctx.session,
        actor=ctx.actor,
        action="campaign.set",
        now=ctx.now,
        target=f"campaign:{found.year}",
        details={"milestone": kind.value, "cutoff": cutoff.isoformat()},
    )
    ctx.say(
        _("%(name)s: %(deadline)s.")
        % {
            "name": milestone_name(kind),
            "deadline": deadline_words(cutoff, ctx.now, ctx.settings.tz),
        }
    )


def _kind_and_day(words: list[str]) -> tuple[MilestoneKind | None, date | None]:
    """The milestone (in English or Vietnamese words) and the day, in any order."""
    days = [d for d in map(_day, words) if d is not None]
    named = " ".join(w for w in words if _day(w) is None)
    return milestone_kind(named), (days[0] if len(days) == 1 else None)


def _day(text: str) -> date | None:
    """A day written dd/mm/yyyy, or None."""
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()  # noqa: DTZ007  (a calendar day)
    except ValueError:
        return None


def _extend(ctx: Ctx, found: Campaign, words: list[str]) -> None:
    """Moves one enterprise's cut-off to the end of the given day."""
    if refuse(ctx, Role.ADMIN):
        return
    named = " ".join(words[2:])
    kind = milestone_kind(named) if named else MilestoneKind.REGISTRATION
    day = _day(words[1]) if len(words) >= 2 else None
    if day is None or kind is None:
        ctx.say(_("Write it as: /campaign extend 0100109106 30/04/2026 registration"))
        return
    try:
        campaigns.check_day(campaign=found, day=day)
    except RegistryError as error:
        ctx.say(render(error.code, error.params))
        return
    try:
        enterprise = registry.require_enterprise(session=ctx.session, tax_code=words[0])
    except IdentifierError as error:
        ctx.say(render(error.code, {"value": error.value}))
        return
    except RegistryError as error:
        ctx.say(render(error.code, error.params))
        return
    cutoff = campaigns.local_midnight(day + timedelta(days=1), ctx.settings.tz)
    registrations.extend(
        session=ctx.session, campaign=found, enterprise=enterprise, kind=kind, until=cutoff,
        granted_by=ctx.actor, now=ctx.now,
    )  # fmt: skip
    audit.record(
        db=ctx.session, actor=ctx.actor, action="campaign.extend", now=ctx.now,
        target=enterprise.tax_code, details={"milestone": kind.value, "until": cutoff.isoformat()},
    )  # fmt: skip
    ctx.say(
        _("%(enterprise)s may submit the %(milestone)s until %(when)s.")
        % {"enterprise": enterprise.name, "milestone": milestone_name(kind).lower(),
           "when": fmt_instant(last_moment(cutoff), ctx.settings.tz)}
    )  # fmt: skip


flow = Flow(
    "admin",
    steps=(
        Step(
            SET_CONFIRM,
            prompt=prompt_set_confirm,
            handle=handle_set_confirm,
            back=MAIN_MENU,
            roles=ADMINS,
        ),
    ),
    commands={"invite": invite, "campaign": campaign},
)
