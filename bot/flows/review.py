"""The board reviews submissions: received, has issues, approved, or returned with a comment."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core.commands import HOME, command, reprompt
from bot.core.context import Ctx, Step, register
from bot.core.types import Kind
from bot.flows.menu import MENU_ACTIONS, hint_and_reprompt, show_menu
from bot.flows.registry_chat import refuse
from bot.i18n import N_, _, fmt_instant
from bot.milestone_text import milestone_name
from scheduler import planner
from storage import audit, campaigns, reviews
from storage.models import ChatLink, Contact, MilestoneKind, Registration, Report, ReviewState, Role
from storage.text import nfc

KIND, PICK, STATE, COMMENT = "rv.kind", "rv.pick", "rv.state", "rv.comment"
LISTED = 30
STATE_NAMES = {
    ReviewState.RECEIVED: N_("received"),
    ReviewState.HAS_ISSUES: N_("has issues"),
    ReviewState.APPROVED: N_("approved"),
    ReviewState.RETURNED: N_("returned for correction"),
}
KIND_NAMES = {"registration": MilestoneKind.REGISTRATION, "report": MilestoneKind.REPORT,
              "midyear": MilestoneKind.MIDYEAR}  # fmt: skip


def state_name(state: str) -> str:
    """A review state in the active language."""
    return _(STATE_NAMES[ReviewState(state)])


@command("review")
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
    campaign = campaigns.get_campaign(session=ctx.session)
    pairs = (
        reviews.newest_submissions(session=ctx.session, campaign=campaign, kind=_kind_value(ctx))
        if campaign
        else []
    )
    if not pairs:
        ctx.goto(HOME)
        ctx.say(_("Nothing has been submitted yet."))
        show_menu(ctx)
        return
    shown = pairs[:LISTED]
    ctx.set_data(ids=[row.id for _e, row in shown])
    lines = [_("Type the number of the submission to review:")]
    lines += [
        f"{n}. {enterprise.name} — {row.reference} ({state_name(row.review_state)})"
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
    shown = ctx.data("ids", [])
    ids = [i for i in shown if isinstance(i, int)] if isinstance(shown, list) else []
    text = ctx.incoming.text.strip() if ctx.incoming.kind == Kind.TEXT else ""
    if not text.isdigit() or not 1 <= int(text) <= len(ids):
        ctx.say(_("Please type a number from 1 to %(n)s.") % {"n": len(ids)})
        return
    ctx.goto(STATE, kind=ctx.data("kind"), submission=ids[int(text) - 1])
    reprompt(ctx)


def prompt_state(ctx: Ctx) -> None:
    """The submission's receipt and state, and the decisions."""
    row = _submission(ctx)
    if row is None:
        ctx.goto(HOME)
        show_menu(ctx)
        return
    when = fmt_instant(row.submitted_at, ctx.settings.tz) if row.submitted_at else "—"
    lines = [
        _("%(reference)s, version %(version)s, submitted at %(when)s; now: %(state)s.")
        % {
            "reference": row.reference,
            "version": row.version,
            "when": when,
            "state": state_name(row.review_state),
        }
    ]
    if row.review_comment:
        lines.append(_("Comment: %(text)s") % {"text": row.review_comment})
    ctx.say("\n".join(lines), [(state.value, state_name(state)) for state in ReviewState])


def handle_state(ctx: Ctx) -> None:
    """Saves the decision; "has issues" and "returned" ask for a comment first."""
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
    text = nfc(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else ""
    if not text:
        hint_and_reprompt(ctx)
        return
    _decide(ctx, ReviewState(str(ctx.data("state"))), text[:1000])


def _decide(ctx: Ctx, state: ReviewState, comment: str | None) -> None:
    """Records, audits, and tells the enterprise's contacts through the outbox."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        ctx.goto(HOME)
        return
    row = _submission(ctx)
    if row is None:
        ctx.goto(HOME)
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
        db=ctx.session, actor=f"contact:{ctx.contact.id if ctx.contact else '?'}",
        action="review", now=ctx.now, target=str(row.reference),
        details={"state": state.value, "comment": comment},
    )  # fmt: skip
    kind = str(ctx.data("kind"))
    chats = ctx.session.exec(
        select(ChatLink)
        .join(Contact, col(Contact.id) == col(ChatLink.contact_id))
        .where(Contact.enterprise_id == row.enterprise_id, col(ChatLink.reachable).is_(True))
    ).all()
    for link in chats:
        planner.enqueue(
            session=ctx.session, key=f"review:{row.reference}:{ctx.now.isoformat()}:{link.id}",
            kind="review", target=planner.Target(link.channel, link.chat_id), now=ctx.now,
            payload={
                "reference": row.reference, "kind": kind, "state": state.value,
                "comment": comment or "",
            },
        )  # fmt: skip
    ctx.goto(HOME)
    ctx.say(
        _("%(reference)s is now: %(state)s. %(n)s chats of the enterprise will be told.")
        % {"reference": row.reference, "state": state_name(state), "n": len(chats)}
    )
    show_menu(ctx)


for name, prompt, handle, free in (
    (KIND, prompt_kind, handle_kind, False),
    (PICK, prompt_pick, handle_pick, True),
    (STATE, prompt_state, handle_state, False),
    (COMMENT, prompt_comment, handle_comment, True),
):
    register(Step(name, prompt=prompt, handle=handle, back=HOME, free_text=free))
MENU_ACTIONS["review"] = start_review
