"""What the registration steps share: the contact's campaign, enterprise and draft, and wording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.context import Ctx
from bot.i18n import N_, _
from storage import campaigns, catalogue, registration_rules, registrations, results, reviews
from storage.models import Campaign, Enterprise, MilestoneKind, Nominee, Registration, Role

OVERVIEW = "reg.home"  # the registration's own start page (not the main menu)
COLLECTIVES = "reg.collectives"
INDIVIDUALS = "reg.individuals"
REVIEW = "reg.review"
LIST_PREVIEW = 30  # rows listed in chat; the workbook has them all

STEP_NAMES = {
    COLLECTIVES: N_("Step 1/3: collectives"),
    INDIVIDUALS: N_("Step 2/3: individuals"),
    REVIEW: N_("Step 3/3: review and submit"),
}


@dataclass
class Scope:
    """The registration a contact acts on; derived from the contact, never from the input."""

    campaign: Campaign
    enterprise: Enterprise
    cutoff: datetime | None
    returned: bool = False  # the board sent the registration back: open until resubmitted
    previous_reference: str | None = None  # the newest submitted version's receipt

    def is_open(self, now: datetime) -> bool:
        """Whether registrations are still accepted for this enterprise."""
        return self.returned or (self.cutoff is not None and now < self.cutoff)


def own_milestone(
    ctx: Ctx, kind: MilestoneKind
) -> tuple[Campaign, Enterprise, datetime | None] | None:
    """The contact's enterprise, the current campaign and its cut-off for ``kind``; else None."""
    if not ctx.is_role(Role.CONTACT) or ctx.contact is None or ctx.contact.enterprise_id is None:
        return None
    campaign = campaigns.get_campaign(session=ctx.session)
    enterprise = ctx.session.get(Enterprise, ctx.contact.enterprise_id)
    if campaign is None or enterprise is None:
        return None
    cutoff = registrations.cutoff_for(
        session=ctx.session, campaign=campaign, enterprise=enterprise, kind=kind
    )
    return campaign, enterprise, cutoff


def scope(ctx: Ctx) -> Scope | None:
    """The contact's enterprise and current campaign; None for anyone else."""
    found = own_milestone(ctx, MilestoneKind.REGISTRATION)
    if found is None:
        return None
    campaign, enterprise, cutoff = found
    latest = registrations.latest_submitted(
        session=ctx.session, campaign=campaign, enterprise=enterprise
    )
    return Scope(
        campaign, enterprise, cutoff, reviews.is_returned(latest),
        latest.reference if latest else None,
    )  # fmt: skip


def draft(ctx: Ctx, where: Scope) -> Registration:
    """The enterprise's draft, created (from the last submission) on first change."""
    return registrations.open_draft(
        session=ctx.session,
        campaign=where.campaign,
        enterprise=where.enterprise,
        now=ctx.now,
        contact_id=ctx.contact.id if ctx.contact else None,
    )


def rule_warnings(
    session: Session, campaign: Campaign, enterprise: Enterprise, rows: Sequence[Nominee]
) -> list[registration_rules.Warning]:
    """The registration's warnings, with the rules that need the enterprise's past awards."""
    assert enterprise.id is not None
    history = results.history(session, enterprise.id, campaign.year)
    return registration_rules.check(campaign.regime, rows, history, campaign.year)


def title_name(regime: str, code: str | None) -> str:
    """A title's short form as the form writes it."""
    return catalogue.short_name(regime, code)


def row_text(regime: str, number: int, row: Nominee) -> str:
    """ "3. Nguyễn Thị Hoà — Kỹ sư, phòng KT — CSTĐCS, GK (sáng kiến: …)"."""
    parts = [f"{number}. {row.name}"]
    if row.position:
        parts.append(row.position)
    titles = ", ".join(
        t for t in (title_name(regime, row.title_code), title_name(regime, row.award_code)) if t
    )
    parts.append(titles)
    text = " — ".join(parts)
    if row.initiative:
        text += " " + _("(initiative: %(name)s)") % {"name": row.initiative}
    if row.basis:
        text += " " + _("(basis: %(basis)s)") % {"basis": row.basis}
    return text


def rows_text(regime: str, rows: list[Nominee], *, empty: str) -> str:
    """A numbered list, cut after LIST_PREVIEW rows with a count of the rest."""
    if not rows:
        return empty
    lines = [row_text(regime, n, r) for n, r in enumerate(rows[:LIST_PREVIEW], start=1)]
    if len(rows) > LIST_PREVIEW:
        lines.append(
            _("… and %(n)s more (download the workbook to see them all).")
            % {"n": len(rows) - LIST_PREVIEW}
        )
    return "\n".join(lines)
