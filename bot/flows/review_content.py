"""What the board sees before it decides: a registration's rows (paged) with its warnings, a
report's figures and signed document, and what changed since the previous version."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot.core.context import Ctx
from bot.core.types import OutFile
from bot.flows.registration import attestation_words, warning_text
from bot.flows.registration_common import row_text, rule_warnings
from bot.flows.report import signed_copy
from bot.i18n import _
from bot.texts.report import label, value_text
from storage import registrations
from storage.models import (
    Campaign,
    Enterprise,
    MilestoneKind,
    Nominee,
    Registration,
    Report,
)
from storage.report_figures import against_registration, figures_for
from storage.text import tone_key

PAGE = 20  # rows a page (a Telegram message holds 4,096 characters)


def content(
    ctx: Ctx, row: Registration | Report, page: int
) -> tuple[list[str], OutFile | None, bool]:
    """The lines to show, the document to re-send (the signed report), and whether more
    rows follow this page."""
    if isinstance(row, Registration):
        lines, more = _registration(ctx, row, page)
        return lines, None, more
    return _report(ctx, row), _signed(ctx, row), False


def _previous(ctx: Ctx, row: Registration | Report) -> Registration | Report | None:
    """The version submitted before this one, if any."""
    if isinstance(row, Registration):
        return ctx.session.exec(
            select(Registration).where(
                Registration.campaign_id == row.campaign_id,
                Registration.enterprise_id == row.enterprise_id,
                Registration.version == row.version - 1,
            )
        ).first()
    return ctx.session.exec(
        select(Report).where(
            Report.campaign_id == row.campaign_id,
            Report.enterprise_id == row.enterprise_id,
            Report.kind == row.kind,
            Report.version == row.version - 1,
        )
    ).first()


def _registration(ctx: Ctx, row: Registration, page: int) -> tuple[list[str], bool]:
    campaign = ctx.session.get(Campaign, row.campaign_id)
    regime = campaign.regime if campaign else ""
    rows = registrations.nominees(session=ctx.session, registration=row)
    page = min(page, max(0, (len(rows) - 1) // PAGE))  # an old "next" pressed on the last page
    start = page * PAGE
    shown = rows[start : start + PAGE]
    lines = [
        _("Rows %(first)s–%(last)s of %(n)s:")
        % {"first": start + 1 if shown else 0, "last": start + len(shown), "n": len(rows)}
    ]
    lines += [row_text(regime, n, r) for n, r in enumerate(shown, start=start + 1)]
    if page == 0:
        enterprise = ctx.session.get(Enterprise, row.enterprise_id)
        warnings = (
            rule_warnings(ctx.session, campaign, enterprise, rows)
            if campaign is not None and enterprise is not None
            else []
        )
        lines += ["⚠ " + warning_text(w) for w in warnings]
        lines.append(attestation_words(row))
        previous = _previous(ctx, row)
        if isinstance(previous, Registration):
            before = registrations.nominees(session=ctx.session, registration=previous)
            lines += _row_changes(regime, before, rows, previous.version)
    return lines, start + PAGE < len(rows)


def _row_changes(
    regime: str, before: list[Nominee], after: list[Nominee], version: int
) -> list[str]:
    """Rows added, removed and changed since the previous version (matched by name)."""
    old = {(r.kind, tone_key(r.name)): r for r in before}
    new = {(r.kind, tone_key(r.name)): r for r in after}
    added = [r.name for k, r in new.items() if k not in old]
    removed = [r.name for k, r in old.items() if k not in new]
    changed = [
        row_text(regime, 0, r).removeprefix("0. ")
        for k, r in new.items()
        if k in old and _values(old[k]) != _values(r)
    ]
    if not (added or removed or changed):
        return [_("Unchanged since version %(version)s.") % {"version": version}]
    lines = [_("Since version %(version)s:") % {"version": version}]
    if added:
        lines.append(_("added: %(names)s") % {"names": ", ".join(added)})
    if removed:
        lines.append(_("removed: %(names)s") % {"names": ", ".join(removed)})
    if changed:
        lines.append(_("changed: %(rows)s") % {"rows": "; ".join(changed)})
    return lines


def _values(row: Nominee) -> tuple[object, ...]:
    return (row.position, row.title_code, row.award_code, row.initiative)


def _report(ctx: Ctx, row: Report) -> list[str]:
    fields = figures_for(row.kind)
    lines = [
        f"{n}. {label(f)}: {value_text(f, row.figures.get(f.key))}"
        for n, f in enumerate(fields, start=1)
    ]
    previous = _previous(ctx, row)
    if isinstance(previous, Report):
        changed = [
            f"{label(f)}: {value_text(f, previous.figures.get(f.key))} → "
            f"{value_text(f, row.figures.get(f.key))}"
            for f in fields
            if previous.figures.get(f.key) != row.figures.get(f.key)
        ]
        lines.append(
            _("Since version %(version)s:") % {"version": previous.version}
            if changed
            else _("Unchanged since version %(version)s.") % {"version": previous.version}
        )
        lines += [f"• {c}" for c in changed]
    lines += _against_registration(ctx, row)
    return lines


def _against_registration(ctx: Ctx, row: Report) -> list[str]:
    """The year-end report's awards beside the enterprise's registration of the year."""
    if row.kind != MilestoneKind.REPORT:
        return []
    campaign = ctx.session.get(Campaign, row.campaign_id)
    enterprise = ctx.session.get(Enterprise, row.enterprise_id)
    if campaign is None or enterprise is None:
        return []
    registered = registrations.latest_submitted(
        session=ctx.session, campaign=campaign, enterprise=enterprise
    )
    counts: Counter[str] = Counter()
    if registered is not None:
        for nominee in registrations.nominees(session=ctx.session, registration=registered):
            counts.update(code for code in (nominee.title_code, nominee.award_code) if code)
    compared = against_registration(row.figures, counts)
    if not compared:
        return []
    fields = {f.key: f for f in figures_for(row.kind)}
    lines = [
        _("Against the registration %(reference)s:") % {"reference": registered.reference}
        if registered is not None
        else _("Against the registration: none was submitted this year.")
    ]
    for item in compared:
        line = _("%(label)s: %(registered)s registered, %(awarded)s awarded") % {
            "label": label(fields[item.key]), "registered": item.registered,
            "awarded": item.awarded,
        }  # fmt: skip
        if item.over:
            line = "⚠ " + line + " — " + _("more than registered: ask why")
        lines.append("• " + line)
    return lines


def _signed(ctx: Ctx, row: Report) -> OutFile | None:
    """The signed document of a report under review."""
    enterprise = ctx.session.get(Enterprise, row.enterprise_id)
    return None if enterprise is None else signed_copy(ctx, row, enterprise.tax_code)
