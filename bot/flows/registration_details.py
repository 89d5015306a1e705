"""The rows' optional details in chat, asked apart so that adding a row stays short: a person's
category and gender (for the statistics form), a collective's headcount (for its LĐTT share)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import Step
from bot.core.routing import reprompt
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt
from bot.flows.registration_common import COLLECTIVES, INDIVIDUALS, OVERVIEW, draft, scope
from bot.i18n import _
from bot.texts.problems import render
from storage import registrations
from storage.models import Nominee, NomineeKind, Registration
from storage.registration_sheet import CATEGORY_NAMES, GENDER_NAMES
from storage.registrations import SubmissionError

PERSON, GROUP = "reg.detail_person", "reg.detail_group"


def _missing(row: Nominee) -> bool:
    if row.kind == NomineeKind.COLLECTIVE:
        return row.members is None
    return row.category is None or row.gender is None


def start_details(ctx: Ctx, kind: NomineeKind) -> None:
    """Walks the rows that lack their details, one at a time; each may be skipped."""
    where = scope(ctx)
    if where is None:
        ctx.goto(OVERVIEW)
        reprompt(ctx)
        return
    rows = registrations.nominees(session=ctx.session, registration=draft(ctx, where), kind=kind)
    waiting = [r.id for r in rows if _missing(r)]
    back = COLLECTIVES if kind == NomineeKind.COLLECTIVE else INDIVIDUALS
    if not waiting:
        ctx.say(_("Every row already has these details."))
        ctx.goto(back)
        reprompt(ctx)
        return
    ctx.goto(GROUP if kind == NomineeKind.COLLECTIVE else PERSON, queue=waiting, field="category")
    reprompt(ctx)


def _current(ctx: Ctx) -> tuple[Registration, Nominee] | None:
    """The draft and the row being asked about (the queue's first); None when the queue is
    done."""
    where = scope(ctx)
    queue = ctx.data("queue", [])
    if where is None or not isinstance(queue, list):
        return None
    target = draft(ctx, where)
    while queue:
        row = ctx.session.get(Nominee, queue[0])
        if row is not None and row.id is not None and row.registration_id == target.id:
            return target, row
        queue.pop(0)  # removed meanwhile
    return None


def _answering(ctx: Ctx, back: str) -> tuple[Registration, Nominee] | None:
    """The draft and row an answer is for; None when it was dealt with here: the queue done
    (the next question), or "stop" (back to the list)."""
    current = _current(ctx)
    if current is None:
        _next(ctx)
        return None
    if ctx.choice == "stop":
        ctx.goto(back)
        reprompt(ctx)
        return None
    return current


def _next(ctx: Ctx, *, field: str | None = None) -> None:
    """The next question: the same person's gender, or the next row; the list when done."""
    queue = list(ctx.data("queue", []))  # type: ignore[call-overload]
    if field is None and queue:
        queue.pop(0)
    kind = NomineeKind.COLLECTIVE if ctx.conv.step == GROUP else NomineeKind.INDIVIDUAL
    if not queue:
        ctx.say(_("The details are saved; rows skipped can be completed later."))
        ctx.goto(COLLECTIVES if kind == NomineeKind.COLLECTIVE else INDIVIDUALS)
    else:
        ctx.goto(ctx.conv.step, queue=queue, field=field or "category")
    reprompt(ctx)


def prompt_person(ctx: Ctx) -> None:
    """Asks one person's category, then gender."""
    current = _current(ctx)
    if current is None:
        _next(ctx)
        return
    row = current[1]
    who = row.name + (f" ({row.position})" if row.position else "")
    left = len(ctx.data("queue", []))  # type: ignore[arg-type]
    if ctx.data("field") == "gender":
        choices = list(GENDER_NAMES.items())  # the form's own words: form data
        question = _("%(who)s — gender (optional):") % {"who": who}
    else:
        choices = list(CATEGORY_NAMES.items())
        question = _("%(who)s — category for the statistics (optional; %(n)s rows left):") % {
            "who": who, "n": left,
        }  # fmt: skip
    ctx.say(question, [*choices, ("skip", _("Skip")), ("stop", _("Stop here"))])


def handle_person(ctx: Ctx) -> None:
    """Saves the answer; a skipped one stays empty."""
    current = _answering(ctx, INDIVIDUALS)
    if current is None:
        return
    target, row = current
    assert row.id is not None  # a stored row (_current)
    gender = ctx.data("field") == "gender"
    allowed = tuple(GENDER_NAMES if gender else CATEGORY_NAMES)
    if ctx.choice not in (*allowed, "skip"):
        hint_and_reprompt(ctx)
        return
    if ctx.choice != "skip":
        registrations.set_details(
            session=ctx.session, draft=target, nominee_id=row.id, now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
            **{"gender" if gender else "category": ctx.choice},
        )  # fmt: skip
    _next(ctx, field=None if gender else "gender")


def prompt_group(ctx: Ctx) -> None:
    """Asks one collective's headcount."""
    current = _current(ctx)
    if current is None:
        _next(ctx)
        return
    row = current[1]
    ctx.say(
        _("%(name)s — how many people does it have? (optional: for the share of them registered"
          " Lao động tiên tiến; type a number)") % {"name": row.name},
        [("skip", _("Skip")), ("stop", _("Stop here"))],
    )  # fmt: skip


def handle_group(ctx: Ctx) -> None:
    """Saves a headcount, or explains why it is not one."""
    current = _answering(ctx, COLLECTIVES)
    if current is None:
        return
    target, row = current
    assert row.id is not None  # a stored row (_current)
    if ctx.choice != "skip":
        if ctx.incoming.kind != Kind.TEXT:
            hint_and_reprompt(ctx)
            return
        try:
            registrations.set_details(
                session=ctx.session, draft=target, nominee_id=row.id, now=ctx.now,
                contact_id=ctx.contact.id if ctx.contact else None, members=ctx.incoming.text,
            )  # fmt: skip
        except SubmissionError as error:
            ctx.say(render(error.code, error.params))
            return
    _next(ctx)


STEPS = (
    Step(PERSON, prompt=prompt_person, handle=handle_person, back=INDIVIDUALS),
    Step(GROUP, prompt=prompt_group, handle=handle_group, back=COLLECTIVES, free_text=True),
)
