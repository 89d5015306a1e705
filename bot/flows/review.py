"""The board reviews submissions: received, has issues, approved, or returned with a comment."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import reprompt, typed_number
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.review_content import content
from bot.flows.roles import STAFF, refuse
from bot.i18n import _, fmt_instant
from bot.texts.milestones import milestone_name, review_state_name
from storage import audit, campaigns, links, outbox, reviews
from storage.models import MilestoneKind, Registration, Report, ReviewState, Role
from storage.text import nfc

KIND, PICK, STATE, COMMENT = "rv.kind", "rv.pick", "rv.state", "rv.comment"
LISTED = 30
KIND_NAMES = {"registration": MilestoneKind.REGISTRATION, "report": MilestoneKind.REPORT,
              "midyear": MilestoneKind.MIDYEAR}  # fmt: skip


def start_review(ctx: Ctx) -> None:
    """Asks which kind of submission to review."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    ctx.goto(KIND)
    prompt_kind(ctx)


def prompt_kind(ctx: Ctx) -> None:
    """Registrations, year-end reports or mid-year reports."""
    ctx.say(
        _("Which submissions?"),
        [(key, milestone_name(kind)) for key, kind in KIND_NAMES.items()],
    )


def handle_kind(ctx: Ctx) -> None:
    """Lists the newest submission of each enterprise of that kind."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    if ctx.choice not in KIND_NAMES:
        hint_and_reprompt(ctx)
        return
    ctx.goto(PICK, kind=ctx.choice)
    reprompt(ctx)


def _kind_value(ctx: Ctx) -> str:
    key = str(ctx.data("kind", "registration"))
    return "registration" if key == "registration" else KIND_NAMES[key].value


def prompt_pick(ctx: Ctx) -> None:
    """Numbered list of submissions with their review state."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):  # asked again after /lang or /back: a read too
        return
    campaign = campaigns.get_campaign(session=ctx.session)
    pairs = (
        reviews.newest_submissions(session=ctx.session, campaign=campaign, kind=_kind_value(ctx))
        if campaign
        else []
    )
    if not pairs:
        ctx.goto(MAIN_MENU)
        ctx.say(_("Nothing has been submitted yet."))
        show_menu(ctx)
        return
    shown = pairs[:LISTED]
    ctx.set_data(ids=[row.id for _e, row in shown])
    lines = [_("Type the number of the submission to review:")]
    lines += [
        f"{n}. {enterprise.name} — {row.reference} ({review_state_name(row.review_state)})"
        for n, (enterprise, row) in enumerate(shown, start=1)
    ]
    ctx.say("\n".join(lines))


def _submission(ctx: Ctx) -> Registration | Report | None:
    """The submission under review (its id is the server's, from the list it showed)."""
    ident = ctx.data("submission") or 0
    if ctx.data("kind") == "registration":
        return ctx.session.get(Registration, ident)
    return ctx.session.get(Report, ident)


def handle_pick(ctx: Ctx) -> None:
    """Opens the chosen submission."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    shown = ctx.data("ids", [])
    ids = [i for i in shown if isinstance(i, int)] if isinstance(shown, list) else []
    number = typed_number(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else None
    if number is None or not 1 <= number <= len(ids):
        ctx.say(_("Please type a number from 1 to %(n)s.") % {"n": len(ids)})
        return
    ctx.goto(STATE, kind=ctx.data("kind"), submission=ids[number - 1])
    reprompt(ctx)


def prompt_state(ctx: Ctx) -> None:
    """The submission's receipt and state, and the decisions."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    row = _submission(ctx)
    if row is None:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    when = fmt_instant(row.submitted_at, ctx.settings.tz) if row.submitted_at else "—"
    lines = [
        _("%(reference)s, version %(version)s, submitted at %(when)s; now: %(state)s.")
        % {
            "reference": row.reference,
            "version": row.version,
            "when": when,
            "state": review_state_name(row.review_state),
        }
    ]
    if row.review_comment:
        lines.append(_("Comment: %(text)s") % {"text": row.review_comment})
    page = ctx.data("page", 0)
    shown, document, more = content(ctx, row, page if isinstance(page, int) else 0)
    lines += shown
    choices = [(state.value, review_state_name(state)) for state in ReviewState]
    if more:
        choices.append(("more", _("Next rows")))
    ctx.say("\n".join(lines), choices, file=document)


def handle_state(ctx: Ctx) -> None:
    """Saves the decision; "has issues" and "returned" ask for a comment first."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    if ctx.choice == "more":
        page = ctx.data("page", 0)
        ctx.set_data(page=(page if isinstance(page, int) else 0) + 1)
        reprompt(ctx)
        return
    if ctx.choice not in {s.value for s in ReviewState}:
        hint_and_reprompt(ctx)
        return
    if ctx.choice in (ReviewState.HAS_ISSUES, ReviewState.RETURNED):
        ctx.goto(
            COMMENT, kind=ctx.data("kind"), submission=ctx.data("submission"), state=ctx.choice
        )
        reprompt(ctx)
        return
    _decide(ctx, ReviewState(ctx.choice), None)


def prompt_comment(ctx: Ctx) -> None:
    """Asks what is wrong, for the enterprise to read."""
    ctx.say(_("Type the comment for the enterprise (what to correct):"))


def handle_comment(ctx: Ctx) -> None:
    """Saves the decision with its comment."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    text = nfc(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else ""
    if not text:
        hint_and_reprompt(ctx)
        return
    _decide(ctx, ReviewState(str(ctx.data("state"))), text[:1000])


def _decide(ctx: Ctx, state: ReviewState, comment: str | None) -> None:
    """Records, audits, and tells the enterprise's contacts through the outbox."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    row = _submission(ctx)
    if row is None:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    reviews.set_review(
        session=ctx.session,
        submission=row,
        state=state,
        comment=comment,
        reviewer=ctx.contact.id if ctx.contact else None,
        now=ctx.now,
    )
    audit.record(
        db=ctx.session, actor=ctx.actor,
        action="review", now=ctx.now, target=str(row.reference),
        details={"state": state.value, "comment": comment},
    )  # fmt: skip
    kind = str(ctx.data("kind"))
    chats = links.reachable_chats(session=ctx.session, enterprise_ids=[row.enterprise_id])
    for chat in chats:
        outbox.enqueue(
            session=ctx.session, key=f"review:{row.reference}:{ctx.now.isoformat()}:{chat.link_id}",
            kind="review", target=chat.target, now=ctx.now,
            payload={
                "reference": row.reference, "kind": kind, "state": state.value,
                "comment": comment or "",
            },
        )  # fmt: skip
    ctx.goto(MAIN_MENU)
    ctx.say(
        _("%(reference)s is now: %(state)s. %(n)s chats of the enterprise will be told.")
        % {"reference": row.reference, "state": review_state_name(state), "n": len(chats)}
    )
    show_menu(ctx)


flow = Flow(
    "review",
    steps=(
        Step(KIND, prompt=prompt_kind, handle=handle_kind, back=MAIN_MENU, roles=STAFF),
        Step(
            PICK,
            prompt=prompt_pick,
            handle=handle_pick,
            back=MAIN_MENU,
            free_text=True,
            roles=STAFF,
        ),
        Step(STATE, prompt=prompt_state, handle=handle_state, back=MAIN_MENU, roles=STAFF),
        Step(
            COMMENT,
            prompt=prompt_comment,
            handle=handle_comment,
            back=MAIN_MENU,
            free_text=True,
            roles=STAFF,
        ),
    ),
    commands={"review": start_review},
    menu={"review": start_review},
)
