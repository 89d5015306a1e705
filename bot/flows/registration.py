"""Registering emulation titles: the overview, the Excel path, review, submit and receipt."""

from __future__ import annotations

from collections import Counter

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import reprompt
from bot.core.types import Reply
from bot.flows import registration_details, registration_edit, registration_form
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.registration_common import (
    COLLECTIVES,
    INDIVIDUALS,
    OVERVIEW,
    REVIEW,
    STEP_NAMES,
    Scope,
    draft,
    rows_text,
    rule_warnings,
    scope,
    title_name,
)
from bot.i18n import _, fmt_instant, last_moment
from bot.texts.board import reach
from bot.texts.milestones import deadline_words, standing_words
from bot.texts.problems import render
from storage import audit, catalogue, registration_rules, registrations
from storage.catalogue import LEGAL_BASIS
from storage.models import (
    Contact,
    MilestoneKind,
    Nominee,
    NomineeKind,
    Regime,
    Registration,
    SubmissionStatus,
)
from storage.progress import Standing
from storage.versions import SubmissionError


def open_registration(ctx: Ctx) -> None:
    """Entry from the menu: the overview, or why it is closed."""
    where = scope(ctx)
    if where is None:
        ctx.say(
            _(
                "Only a linked enterprise contact can register titles, and only once the board has "
                "opened a campaign."
            )
        )
        show_menu(ctx)
        return
    if not where.is_open(ctx.now):
        _closed(ctx, where)
        return
    ctx.goto(OVERVIEW)
    prompt_home(ctx)


def _closed(ctx: Ctx, where: Scope) -> None:
    """Says that registration is closed, since when, and how to ask for more time."""
    when = fmt_instant(last_moment(where.cutoff), ctx.settings.tz) if where.cutoff else "—"
    ctx.say(
        _(
            "Registration for %(year)s closed at %(when)s. To ask for an extension, please contact "
            "%(contact)s."
        )
        % {"year": where.campaign.year, "when": when, "contact": reach(ctx.settings)}
    )
    submitted = registrations.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
    )
    if submitted is not None:
        ctx.say(_submission_text(ctx, where, submitted))
    ctx.goto(MAIN_MENU)
    show_menu(ctx)


def prompt_home(ctx: Ctx) -> None:
    """The overview: deadline, what the draft holds, what was submitted, and the steps."""
    where = scope(ctx)
    if where is None or not where.is_open(ctx.now):
        if where is not None:
            _closed(ctx, where)
        else:
            ctx.goto(MAIN_MENU)
            show_menu(ctx)
        return
    found = registrations.find_draft(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
    )
    submitted = registrations.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
    )
    shown = found or submitted
    counts = registrations.count_nominees(session=ctx.session, registration=shown) if shown else {}
    lines = [
        _("Registration of emulation titles %(year)s — %(enterprise)s")
        % {"year": where.campaign.year, "enterprise": where.enterprise.name},
        deadline_words(where.cutoff, ctx.now, ctx.settings.tz) if where.cutoff else "",
        _("Now: %(collectives)s collectives, %(individuals)s individuals.")
        % {
            "collectives": counts.get(NomineeKind.COLLECTIVE.value, 0),
            "individuals": counts.get(NomineeKind.INDIVIDUAL.value, 0),
        },
    ]
    if submitted is not None:
        lines.append(
            _("Status: %(status)s")
            % {"status": standing_words(Standing.of(submitted), ctx.settings.tz)}
        )
        if found is not None:
            lines.append(_("You have unsubmitted changes; submit them again in step 3."))
    choices = [
        ("collectives", _(STEP_NAMES[COLLECTIVES])),
        ("individuals", _(STEP_NAMES[INDIVIDUALS])),
        ("review", _(STEP_NAMES[REVIEW])),
        ("template", _("Download the Excel form")),
        ("upload", _("Send a filled Excel form")),
    ]
    if submitted is not None:
        choices.append(("view", _("See the submitted registration")))
    elif not counts.get(NomineeKind.COLLECTIVE.value) and not counts.get(
        NomineeKind.INDIVIDUAL.value
    ):
        earlier = registrations.previous_list(
            session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
        )
        if earlier is not None:  # an empty list this year: start from the last one
            choices.insert(0, ("previous", _("Start from last year's list")))
    choices.append(("menu", _("Main menu")))
    ctx.say("\n".join(line for line in lines if line), choices)


def handle_home(ctx: Ctx) -> None:
    """Reads a choice of the overview."""
    targets = {"collectives": COLLECTIVES, "individuals": INDIVIDUALS, "review": REVIEW}
    if ctx.choice in targets:
        ctx.goto(targets[ctx.choice])
        reprompt(ctx)
    elif ctx.choice in registration_form.ACTIONS:
        registration_form.ACTIONS[ctx.choice](ctx)
    elif ctx.choice == "view":
        view_submitted(ctx)
    elif ctx.choice == "previous":
        _copy_previous(ctx)
    elif ctx.choice == "menu":
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
    else:
        hint_and_reprompt(ctx)


def _copy_previous(ctx: Ctx) -> None:
    """Fills the empty draft with last year's rows, checked against this year's rules."""
    where = scope(ctx)
    if where is None or not where.is_open(ctx.now):
        prompt_home(ctx)
        return
    current = registrations.find_draft(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
    )
    if current is not None and any(registrations.count_nominees(
        session=ctx.session, registration=current
    ).values()):  # fmt: skip
        ctx.say(_("This year's list already has rows; nothing was copied over them."))
        prompt_home(ctx)
        return
    copied = registrations.copy_previous(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise,
        now=ctx.now, contact_id=ctx.contact.id if ctx.contact else None,
    )  # fmt: skip
    if copied is None:
        ctx.say(_("There is no list of an earlier year to start from."))
        prompt_home(ctx)
        return
    lines = [
        _("%(n)s rows copied from your %(year)s list, checked against this year's rules. Edit"
          " them (people leave, titles change), then review and submit.")
        % {"n": copied.kept, "year": copied.year}
    ]  # fmt: skip
    for name, code, params in copied.dropped:
        reason = render(code, params)
        lines.append(_("Not copied: %(name)s — %(reason)s") % {"name": name, "reason": reason})
    ctx.say("\n".join(lines))
    prompt_home(ctx)


def prompt_review(ctx: Ctx) -> None:
    """Step 3: totals per title, warnings with their legal basis, then submit."""
    where = scope(ctx)
    if where is None:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    current = draft(ctx, where)
    rows = registrations.nominees(session=ctx.session, registration=current)
    regime = where.campaign.regime
    totals = Counter(r.title_code for r in rows if r.title_code) + Counter(
        r.award_code for r in rows if r.award_code
    )
    lines = [
        _(STEP_NAMES[REVIEW]),
        _("Collectives:"),
        rows_text(regime, [r for r in rows if r.kind == NomineeKind.COLLECTIVE], empty="—"),
    ]
    lines += [
        _("Individuals:"),
        rows_text(regime, [r for r in rows if r.kind == NomineeKind.INDIVIDUAL], empty="—"),
    ]
    lines.append(
        _("Totals: %(totals)s")
        % {
            "totals": ", ".join(
                f"{title_name(regime, code)} {n}" for code, n in sorted(totals.items())
            )
            or "—"
        }
    )
    warnings = rule_warnings(ctx.session, where.campaign, where.enterprise, rows)
    if warnings:
        lines.append(_("Please check (you may still submit; the board sees these notes too):"))
        lines += ["⚠ " + warning_text(w) for w in warnings]
    if rows:
        excellent = any(r.title_code == catalogue.TT_LDXS.code for r in rows)
        lines.append(attestation_text(regime, excellent=excellent))
    ctx.set_data(revision=current.revision, draft=current.id)
    choices = [("submit", _("Confirm and submit"))] if rows else []
    ctx.say("\n".join(lines), [*choices, ("edit", _("Back to editing"))])


def attestation_text(regime: str, *, excellent: bool = False) -> str:
    """What submitting confirms (NĐ 152/2025 Đ.4 k4: nobody under discipline, investigation
    or an unresolved complaint is awarded); with a Tập thể lao động xuất sắc, also that all
    its members completed their tasks (QĐ 86/2025 Đ.3 k2b), which no list can show."""
    basis = LEGAL_BASIS.get(Regime(regime), {}).get("attestation", "")
    text = _(
        "By pressing “Confirm and submit” you confirm that nobody on this list is under"
        " discipline, under investigation, or the subject of a complaint not yet resolved."
    )
    text = f"{text.rstrip('.')} ({basis})." if basis else text
    if excellent:
        text += " " + _(
            "You also confirm that every member of the collectives proposed for Tập thể lao"
            " động xuất sắc completed their tasks."
        )
    return text


def attestation_words(row: Registration) -> str:
    """The board's line about the attestation of a submitted registration."""
    if row.attested_at is None:
        return _("No attestation: submitted without the confirmation on discipline and"
                 " complaints; ask the enterprise for it.")  # fmt: skip
    return _("Attested when submitted: nobody listed is under discipline, investigation or an"
             " unresolved complaint.")  # fmt: skip


def warning_text(warning: registration_rules.Warning) -> str:
    """A rule's warning with its legal basis."""
    text = render(warning.code, warning.params)
    return f"{text} ({warning.basis})" if warning.basis else text


def handle_review(ctx: Ctx) -> None:
    """Submits the draft the person reviewed; a draft changed meanwhile is shown again."""
    if ctx.choice == "edit":
        ctx.goto(OVERVIEW)
        prompt_home(ctx)
        return
    if ctx.choice != "submit":
        hint_and_reprompt(ctx)
        return
    where = scope(ctx)
    if where is None:
        return
    if not where.is_open(ctx.now):
        _closed(ctx, where)
        return
    reviewed = ctx.session.get(Registration, ctx.data("draft") or 0)
    if reviewed is not None and reviewed.status != SubmissionStatus.DRAFT:
        ctx.say(_already_text(ctx, reviewed))
        ctx.goto(REVIEW)
        prompt_review(ctx)
        return
    current = draft(ctx, where)
    revision = ctx.data("revision")
    try:
        done = registrations.submit(
            session=ctx.session,
            draft=current,
            campaign=where.campaign,
            expected_revision=revision if isinstance(revision, int) else -1,
            now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
            attested=True,  # the review said what pressing "submit" confirms
        )
    except SubmissionError as error:
        ctx.say(
            _changed_text(ctx, current)
            if error.code == "registration_changed"
            else render(error.code, error.params)
        )
        prompt_review(ctx)
        return
    _receipt(ctx, where, done)


def _changed_text(ctx: Ctx, current: Registration) -> str:
    """Who changed the draft since it was shown, and when."""
    who = ctx.session.get(Contact, current.updated_by) if current.updated_by else None
    return _(
        "The draft was changed by %(who)s at %(when)s after you opened this summary. Please look "
        "at it again."
    ) % {
        "who": who.full_name if who else "—",
        "when": fmt_instant(current.updated_at, ctx.settings.tz),
    }


def _already_text(ctx: Ctx, done: Registration) -> str:
    """Who submitted the draft this person was reviewing, and as what."""
    who = ctx.session.get(Contact, done.submitted_by) if done.submitted_by else None
    return _(
        "%(who)s already submitted this draft as %(reference)s (version %(version)s) at"
        " %(when)s. Here is the current draft; submit again only if you changed something."
    ) % {
        "who": who.full_name if who else "—",
        "reference": done.reference,
        "version": done.version,
        "when": fmt_instant(done.submitted_at or done.updated_at, ctx.settings.tz),
    }


def _receipt(ctx: Ctx, where: Scope, done: Registration) -> None:
    """Tells the contact the receipt, and the board the news with the campaign's progress."""
    audit.record(
        db=ctx.session, actor=ctx.actor,
        action="registration.submit" if done.version == 1 else "registration.resubmit",
        now=ctx.now, target=str(done.reference),
        details={"version": done.version, "enterprise": where.enterprise.tax_code},
    )  # fmt: skip
    ctx.goto(MAIN_MENU)
    ctx.say(_submission_text(ctx, where, done))
    rows = registrations.nominees(session=ctx.session, registration=done)
    warnings = rule_warnings(ctx.session, where.campaign, where.enterprise, rows)
    registered = registrations.enterprises_registered(session=ctx.session, campaign=where.campaign)
    expected = registrations.active_enterprises(session=ctx.session)
    values = {
        "reference": done.reference,
        "version": done.version,
        "enterprise": where.enterprise.name,
        "tax": where.enterprise.tax_code,
        "previous": where.previous_reference or "—",
    }
    notice = [
        (
            _(
                "New registration %(reference)s (version %(version)s) from %(enterprise)s, tax"
                " code %(tax)s."
            )
            if done.version == 1
            else _(
                "%(enterprise)s (tax code %(tax)s) sent its registration again: version"
                " %(version)s, receipt %(reference)s, in place of %(previous)s."
            )
            + (" " + _("The board had returned it for correction.") if where.returned else "")
        )
        % values,
        _totals(where, rows),
    ]
    notice += ["⚠ " + warning_text(w) for w in warnings]
    notice.append(attestation_words(done))
    notice.append(
        _("%(done)s/%(total)s enterprises have registered.")
        % {"done": registered, "total": expected}
    )
    ctx.result.board.append(Reply("\n".join(notice)))
    show_menu(ctx)


def _totals(where: Scope, rows: list[Nominee]) -> str:
    counts = Counter(r.title_code for r in rows if r.title_code) + Counter(
        r.award_code for r in rows if r.award_code
    )
    return ", ".join(
        f"{title_name(where.campaign.regime, code)}: {n}" for code, n in sorted(counts.items())
    )


def _submission_text(ctx: Ctx, where: Scope, done: Registration) -> str:
    """The receipt: reference, time, totals."""
    rows = registrations.nominees(session=ctx.session, registration=done)
    return _(
        "Submitted. Receipt %(reference)s, version %(version)s, at %(when)s.\nTotals: %(totals)s."
    ) % {
        "reference": done.reference,
        "version": done.version,
        "when": fmt_instant(done.submitted_at, ctx.settings.tz) if done.submitted_at else "—",
        "totals": _totals(where, rows) or "—",
    }


def view_submitted(ctx: Ctx) -> None:
    """Shows the current submitted version."""
    where = scope(ctx)
    if where is None:
        return
    done = registrations.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise
    )
    if done is None:
        ctx.say(_("Nothing has been submitted yet."))
    else:
        rows = registrations.nominees(session=ctx.session, registration=done)
        ctx.say(
            _submission_text(ctx, where, done)
            + "\n"
            + rows_text(where.campaign.regime, rows, empty="—")
        )
    reprompt(ctx)


flow = Flow(
    "registration",
    steps=(
        Step(OVERVIEW, prompt=prompt_home, handle=handle_home, back=MAIN_MENU),
        *registration_edit.STEPS,
        *registration_details.STEPS,
        Step(REVIEW, prompt=prompt_review, handle=handle_review, back=INDIVIDUALS),
        *registration_form.STEPS,
    ),
    menu={f"ms:{MilestoneKind.REGISTRATION.value}": open_registration},
    file_takers=(registration_form.take_sheet,),
)
