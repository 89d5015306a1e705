"""Steps 1 and 2 of the registration: collectives and individuals, added one at a time."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import Step
from bot.core.routing import reprompt, typed_number
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt
from bot.flows.registration_common import (
    COLLECTIVES,
    INDIVIDUALS,
    OVERVIEW,
    REVIEW,
    STEP_NAMES,
    draft,
    rows_text,
    scope,
)
from bot.flows.registration_details import start_details
from bot.flows.registration_form import ACTIONS
from bot.i18n import N_, _
from bot.texts.problems import render
from storage import catalogue, registrations
from storage.catalogue import Subject
from storage.models import Nominee, NomineeKind
from storage.registrations import NomineeInput, SubmissionError

NAME, POSITION, TITLE, AWARD, INITIATIVE, BASIS = (
    "reg.name", "reg.position", "reg.title", "reg.award", "reg.initiative", "reg.basis",
)  # fmt: skip
PICK, CONFIRM_REMOVE = "reg.pick", "reg.remove"
FREE_TEXT = {NAME, POSITION, INITIATIVE, BASIS, PICK}  # a typed "1" is a value here
ROW_GONE = N_(
    "That row was changed or submitted by another contact in the meantime, so nothing was"
    " changed. Here is the list as it is now."
)
LIST_OF = {NomineeKind.COLLECTIVE.value: COLLECTIVES, NomineeKind.INDIVIDUAL.value: INDIVIDUALS}


def _rows(ctx: Ctx, kind: NomineeKind) -> list[Nominee]:
    """This enterprise's draft rows of one kind, in the order they are listed."""
    where = scope(ctx)
    if where is None:
        return []
    return registrations.nominees(session=ctx.session, registration=draft(ctx, where), kind=kind)


def prompt_list(ctx: Ctx) -> None:
    """Shows step 1 (collectives) or 2 (individuals) with what the draft holds."""
    where = scope(ctx)
    if where is None:
        ctx.goto(OVERVIEW)
        return
    kind = NomineeKind.COLLECTIVE if ctx.conv.step == COLLECTIVES else NomineeKind.INDIVIDUAL
    rows = _rows(ctx, kind)
    if kind == NomineeKind.COLLECTIVE:
        intro = _("Collectives: the enterprise itself and its departments or workshops.")
        empty = _("No collective registered yet.")
        choices = [("add", _("Add a collective")), ("edit", _("Change a collective"))]
    else:
        intro = _("Individuals: workers and managers, with their title and proposed commendation.")
        empty = _("No individual registered yet.")
        choices = [("add", _("Add a person")), ("edit", _("Change a person"))]
    if not rows:
        choices = choices[:1]
    else:
        choices.append(("remove", _("Remove a row")))
        choices.append(
            ("details", _("Headcounts (optional)") if kind == NomineeKind.COLLECTIVE
             else _("Category and gender (optional)"))
        )  # fmt: skip
    if kind == NomineeKind.INDIVIDUAL:
        choices += [
            ("template", _("Download the Excel form")),
            ("upload", _("Send a filled Excel form")),
        ]
    following = INDIVIDUALS if kind == NomineeKind.COLLECTIVE else REVIEW
    choices += [("next", _("Continue: %(step)s") % {"step": _(STEP_NAMES[following])})]
    choices.append(("home", _("Back to the registration")))
    text = "\n".join(
        [_(STEP_NAMES[ctx.conv.step]), intro, rows_text(where.campaign.regime, rows, empty=empty)]
    )
    ctx.say(text, choices)


def handle_list(ctx: Ctx) -> None:
    """Reads a choice on the list steps."""
    kind = NomineeKind.COLLECTIVE if ctx.conv.step == COLLECTIVES else NomineeKind.INDIVIDUAL
    if ctx.choice == "add":
        ctx.goto(NAME, kind=kind.value, row={})
    elif ctx.choice in ("edit", "remove"):
        ctx.goto(PICK, kind=kind.value, action=ctx.choice)
    elif ctx.choice == "next":
        ctx.goto(INDIVIDUALS if kind == NomineeKind.COLLECTIVE else REVIEW)
    elif ctx.choice == "details":
        start_details(ctx, kind)
        return
    elif ctx.choice == "home":
        ctx.goto(OVERVIEW)
    elif ctx.choice in ACTIONS:
        ACTIONS[ctx.choice](ctx)
        return
    else:
        hint_and_reprompt(ctx)
        return
    _prompt_current(ctx)


def _prompt_current(ctx: Ctx) -> None:
    reprompt(ctx)


def _kind(ctx: Ctx) -> NomineeKind:
    return NomineeKind(str(ctx.data("kind", NomineeKind.INDIVIDUAL.value)))


def _row(ctx: Ctx) -> dict[str, str]:
    raw = ctx.data("row", {})
    return dict(raw) if isinstance(raw, dict) else {}


def _keep(ctx: Ctx, field: str) -> list[tuple[str, str]]:
    """A "keep it" button while changing a row that has a value for ``field``."""
    current = _row(ctx).get(field)
    if ctx.data("edit") is None or not current:
        return []
    return [("keep", _("Keep: %(value)s") % {"value": current[:40]})]


def _advance(ctx: Ctx, field: str, value: str | None, following: str) -> None:
    """Stores one answer of the row being entered and asks the next question."""
    row = _row(ctx)
    if ctx.choice != "keep":
        row[field] = value or ""
    ctx.goto(following, kind=_kind(ctx).value, row=row, edit=ctx.data("edit"))
    _prompt_current(ctx)


def prompt_name(ctx: Ctx) -> None:
    """Asks for the name (a collective may be the whole enterprise)."""
    where = scope(ctx)
    if _kind(ctx) == NomineeKind.COLLECTIVE:
        choices = _keep(ctx, "name") + ([("whole", where.enterprise.name[:60])] if where else [])
        ctx.say(
            _(
                "Type the collective's name (for example: Phòng Kỹ thuật), or choose the whole "
                "enterprise:"
            ),
            choices,
        )
    else:
        ctx.say(_("Type the person's full name (for example: Nguyễn Thị Hoà):"), _keep(ctx, "name"))


def handle_name(ctx: Ctx) -> None:
    """Checks the name, then asks for the position (people) or the title (collectives)."""
    following = POSITION if _kind(ctx) == NomineeKind.INDIVIDUAL else TITLE
    if ctx.choice == "keep":
        _advance(ctx, "name", None, following)
        return
    if ctx.choice == "whole":
        where = scope(ctx)
        _advance(ctx, "name", where.enterprise.name if where else "", following)
        return
    if ctx.incoming.kind != Kind.TEXT or ctx.choice:
        hint_and_reprompt(ctx)
        return
    try:
        name = registrations.check_name(ctx.incoming.text, _kind(ctx))
    except SubmissionError as error:
        ctx.say(render(error.code, error.params))
        prompt_name(ctx)
        return
    _advance(ctx, "name", name, following)


def prompt_position(ctx: Ctx) -> None:
    """Asks for the position and department."""
    choices = [*_keep(ctx, "position"), ("skip", _("Skip"))]
    ctx.say(_("Type the position and department (for example: Kỹ sư, Phòng Kỹ thuật):"), choices)


def handle_position(ctx: Ctx) -> None:
    """Stores the position (or none), then asks for the title."""
    if ctx.choice in ("keep", "skip"):
        _advance(ctx, "position", "", TITLE)
    elif ctx.incoming.kind == Kind.TEXT and not ctx.choice:
        _advance(ctx, "position", ctx.incoming.text[: registrations.MAX_POSITION], TITLE)
    else:
        hint_and_reprompt(ctx)


def _titles(ctx: Ctx, *, award: bool) -> list[catalogue.Title]:
    where = scope(ctx)
    if where is None:
        return []
    subject = Subject.INDIVIDUAL if _kind(ctx) == NomineeKind.INDIVIDUAL else Subject.COLLECTIVE
    return [
        t
        for t in catalogue.catalogue(where.campaign.regime)
        if t.is_award == award and t.fits(subject)
    ]


def prompt_title(ctx: Ctx) -> None:
    """Offers the regime's titles for this kind of nominee."""
    choices = _keep(ctx, "title_name") + [
        (f"t:{t.code}", t.name) for t in _titles(ctx, award=False)
    ]
    ctx.say(_("Choose the emulation title to register:"), choices)


def handle_title(ctx: Ctx) -> None:
    """Stores the title, then asks for the proposed commendation."""
    if ctx.choice == "keep":
        _advance(ctx, "title", None, AWARD)
        return
    code = ctx.choice.removeprefix("t:") if ctx.choice.startswith("t:") else ""
    chosen = next((t for t in _titles(ctx, award=False) if t.code == code), None)
    if chosen is None:
        hint_and_reprompt(ctx)
        return
    row = _row(ctx)
    row["title_name"] = chosen.name
    ctx.set_data(row=row)
    _advance(ctx, "title", chosen.code, AWARD)


def prompt_award(ctx: Ctx) -> None:
    """Offers the forms of commendation, or none."""
    choices = [(f"a:{t.code}", t.name) for t in _titles(ctx, award=True)]
    ctx.say(
        _("Proposed form of commendation:"),
        [*_keep(ctx, "award_name"), *choices, ("none", _("None"))],
    )


def handle_award(ctx: Ctx) -> None:
    """Stores the award; asks for the initiative when the title calls for one, else saves."""
    if ctx.choice == "none":
        award = ""
    elif ctx.choice == "keep":
        award = _row(ctx).get("award", "")
    elif ctx.choice.startswith("a:") and any(
        t.code == ctx.choice[2:] for t in _titles(ctx, award=True)
    ):
        award = ctx.choice[2:]
    else:
        hint_and_reprompt(ctx)
        return
    row = _row(ctx)
    row["award"] = award
    if _kind(ctx) == NomineeKind.INDIVIDUAL and row.get("title") in (
        catalogue.CSTDCS.code,
        catalogue.CSTD_TINH.code,
    ):
        ctx.set_data(row=row)
        _advance(ctx, "award", award, INITIATIVE)
        return
    row["initiative"] = ""  # a title that needs none keeps none (changed from CSTĐCS)
    ctx.set_data(row=row)
    _save_or_basis(ctx)


def _save_or_basis(ctx: Ctx) -> None:
    """Asks what the proposal rests on when its title or form needs it, else saves."""
    row = _row(ctx)
    if {row.get("title"), row.get("award")} & registrations.NEEDS_BASIS:
        ctx.goto(BASIS, kind=_kind(ctx).value, row=row, edit=ctx.data("edit"))
        _prompt_current(ctx)
        return
    _save(ctx)


def prompt_basis(ctx: Ctx) -> None:
    """Asks the basis in the words of what the proposal needs."""
    row = _row(ctx)
    codes = {row.get("title"), row.get("award")}
    if "co_tinh" in codes:
        question = _("Which cụm or khối thi đua does it lead? (e.g. “dẫn đầu Cụm thi đua số 3”)")
    elif "cstd_tinh" in codes:
        question = _(
            "In which years was the person Chiến sĩ thi đua cơ sở? (e.g. “2023, 2024, 2025”)"
        )
    else:
        question = _(
            "On what basis is it proposed? (e.g. “2 năm liền CSTĐCS 2024, 2025” or “thành tích"
            " đột xuất”, QĐ 86/2025 Điều 3 khoản 3)"
        )
    ctx.say(question, [*_keep(ctx, "basis_kept"), ("skip", _("Skip: tell the board later"))])


def handle_basis(ctx: Ctx) -> None:
    """Stores the basis and saves the row."""
    row = _row(ctx)
    if ctx.choice == "skip":
        row["basis"] = ""
    elif ctx.choice == "keep":
        row["basis"] = row.get("basis_kept", "")
    else:
        if ctx.incoming.kind != Kind.TEXT or ctx.choice:
            hint_and_reprompt(ctx)
            return
        row["basis"] = ctx.incoming.text
    ctx.set_data(row=row)
    _save(ctx)


def prompt_initiative(ctx: Ctx) -> None:
    """Asks for the initiative (sáng kiến) a CSTĐCS candidate is registered with."""
    choices = [*_keep(ctx, "initiative"), ("skip", _("No initiative yet"))]
    ctx.say(_("Type the title of the person's initiative (sáng kiến):"), choices)


def handle_initiative(ctx: Ctx) -> None:
    """Stores the initiative and saves the row."""
    row = _row(ctx)
    if ctx.choice == "skip":
        row["initiative"] = ""
    elif ctx.choice != "keep":
        if ctx.incoming.kind != Kind.TEXT or ctx.choice:
            hint_and_reprompt(ctx)
            return
        row["initiative"] = ctx.incoming.text
    ctx.set_data(row=row)
    _save_or_basis(ctx)


def _save(ctx: Ctx) -> None:
    """Writes the entered row into the draft and returns to its list."""
    where = scope(ctx)
    if where is None:
        ctx.goto(OVERVIEW)
        return
    row = _row(ctx)
    kind = _kind(ctx)
    entry = NomineeInput(
        kind=kind,
        name=row.get("name", ""),
        title=row.get("title", ""),
        position=row.get("position") or None,
        award=row.get("award") or None,
        initiative=row.get("initiative") or None,
        basis=row.get("basis") if "basis" in row else None,  # not asked: kept as it was
    )
    target = draft(ctx, where)
    contact_id = ctx.contact.id if ctx.contact else None
    editing = ctx.data("edit")
    try:
        if isinstance(editing, int):
            changed = registrations.update_nominee(
                session=ctx.session, draft=target, nominee_id=editing, regime=where.campaign.regime,
                row=entry, now=ctx.now, contact_id=contact_id,
            )  # fmt: skip
            if changed is None:
                ctx.say(_(ROW_GONE))
            else:
                ctx.say(_("Changed: %(name)s.") % {"name": entry.name})
        else:
            registrations.add_nominee(
                session=ctx.session, draft=target, regime=where.campaign.regime, row=entry,
                now=ctx.now, contact_id=contact_id,
            )  # fmt: skip
            ctx.say(_("Added: %(name)s. The draft is saved.") % {"name": entry.name})
    except SubmissionError as error:
        ctx.say(render(error.code, error.params))
    ctx.goto(LIST_OF[kind.value])
    _prompt_current(ctx)


def prompt_pick(ctx: Ctx) -> None:
    """Asks which row, by its number in the list."""
    rows = _rows(ctx, _kind(ctx))
    if not rows:
        ctx.goto(LIST_OF[_kind(ctx).value])
        _prompt_current(ctx)
        return
    ctx.set_data(ids=[row.id for row in rows])  # the numbers refer to this list, as shown
    if ctx.data("action") == "remove":
        ctx.say(_("Type the number of the row to remove (1–%(n)s), or /back:") % {"n": len(rows)})
    else:
        ctx.say(_("Type the number of the row to change (1–%(n)s), or /back:") % {"n": len(rows)})


def handle_pick(ctx: Ctx) -> None:
    """Removes the row, or starts changing it, by its listed number."""
    kind = _kind(ctx)
    shown = ctx.data("ids", [])
    ids = [i for i in shown if isinstance(i, int)] if isinstance(shown, list) else []
    number = typed_number(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else None
    if number is None or not 1 <= number <= len(ids):
        ctx.say(_("Please type a number from 1 to %(n)s.") % {"n": len(ids)})
        return
    where = scope(ctx)
    chosen = ctx.session.get(Nominee, ids[number - 1])
    if where is None or chosen is None or chosen.registration_id != draft(ctx, where).id:
        ctx.say(_(ROW_GONE))  # another contact changed or submitted the list meanwhile
        ctx.goto(LIST_OF[kind.value])
        _prompt_current(ctx)
        return
    assert chosen.id is not None
    if ctx.data("action") == "remove":
        ctx.goto(CONFIRM_REMOVE, kind=kind.value, nominee=chosen.id, name=chosen.name)
        _prompt_current(ctx)
        return
    title = catalogue.by_code(where.campaign.regime, chosen.title_code)
    award = catalogue.by_code(where.campaign.regime, chosen.award_code or "")
    row = {
        "name": chosen.name,
        "position": chosen.position or "",
        "title": chosen.title_code,
        "title_name": title.name if title else chosen.title_code,
        "award": chosen.award_code or "",
        "award_name": award.name if award else "",
        "initiative": chosen.initiative or "",
        "basis_kept": chosen.basis or "",
    }
    ctx.goto(NAME, kind=kind.value, row=row, edit=chosen.id)
    _prompt_current(ctx)


def prompt_confirm_remove(ctx: Ctx) -> None:
    """Asks before a row goes (a mistyped number must not cost a row)."""
    ctx.say(
        _("Remove “%(name)s” from the draft?") % {"name": str(ctx.data("name", ""))},
        [("yes", _("Yes, remove it")), ("no", _("No, keep it"))],
    )


def handle_confirm_remove(ctx: Ctx) -> None:
    """Removes the row on "yes"; either way, back to its list."""
    kind = _kind(ctx)
    if ctx.choice not in ("yes", "no"):
        hint_and_reprompt(ctx)
        return
    where = scope(ctx)
    chosen = ctx.session.get(Nominee, ctx.data("nominee") or 0)
    if ctx.choice == "no":
        ctx.say(_("Nothing was removed."))
    elif where is None or chosen is None or chosen.registration_id != draft(ctx, where).id:
        ctx.say(_(ROW_GONE))
    else:
        assert chosen.id is not None
        registrations.remove_nominee(
            session=ctx.session, draft=draft(ctx, where), nominee_id=chosen.id, now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
        )  # fmt: skip
        ctx.say(_("Removed: %(name)s.") % {"name": chosen.name})
    ctx.goto(LIST_OF[kind.value])
    _prompt_current(ctx)


def _list_of_kind(ctx: Ctx) -> str:
    """Where /back leads from the first question about a row: its list."""
    return LIST_OF[_kind(ctx).value]


STEPS = tuple(
    Step(name, prompt=prompt, handle=handle, back=back, free_text=name in FREE_TEXT)
    for name, prompt, handle, back in (
        (COLLECTIVES, prompt_list, handle_list, OVERVIEW),
        (INDIVIDUALS, prompt_list, handle_list, COLLECTIVES),
        (NAME, prompt_name, handle_name, _list_of_kind),
        (POSITION, prompt_position, handle_position, NAME),
        (TITLE, prompt_title, handle_title, _list_of_kind),
        (AWARD, prompt_award, handle_award, TITLE),
        (INITIATIVE, prompt_initiative, handle_initiative, AWARD),
        (BASIS, prompt_basis, handle_basis, AWARD),
        (PICK, prompt_pick, handle_pick, _list_of_kind),
        (CONFIRM_REMOVE, prompt_confirm_remove, handle_confirm_remove, _list_of_kind),
    )
)
