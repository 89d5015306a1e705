"""The words of reminders, digests and notices; handed to the scheduler as its renderer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot.i18n import _, fmt_date, last_moment, use_language
from bot.settings import Settings
from bot.texts.board import reach
from bot.texts.milestones import (
    countdown_words,
    deadline_words,
    milestone_name,
    milestone_title,
    review_state_name,
)
from bot.texts.progress import milestone_chart, owing_lines, zone_lines
from bot.texts.results import standing_lines
from scheduler.dispatcher import Outgoing
from storage import campaigns, results
from storage.models import (
    Campaign,
    Contact,
    Conversation,
    Delivery,
    Enterprise,
    Milestone,
    MilestoneKind,
)
from storage.progress import extensions, progress, submitted_enterprises

OWING_LISTED = 30


class Renderer:
    """Renders outbox rows at send time, so texts follow today's state and the chat's language."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self._languages: dict[tuple[str, str], str | None] = {}
        self._submitted: dict[int, set[int]] = {}
        self._extended: dict[int, dict[int, datetime]] = {}
        self._held: list[object] = []

    def __call__(self, session: Session, rows: list[Delivery]) -> list[Outgoing | None]:
        """Renders a batch; what rows share is loaded once (a few queries a batch, not a row)."""
        self._prefetch(session, rows)
        rendered: list[Outgoing | None] = []
        for row in rows:
            language = self._languages.get((row.channel, row.chat_id)) or self.settings.locale
            with use_language(language):
                rendered.append(self._render(session, row))
        return rendered

    def _prefetch(self, session: Session, rows: list[Delivery]) -> None:
        """Chats' languages, who submitted, extensions; enterprises and contacts preloaded."""
        chats = {row.chat_id for row in rows}
        self._languages = {
            (channel, chat): language
            for channel, chat, language in session.exec(
                select(Conversation.channel, Conversation.chat_id, Conversation.language).where(
                    col(Conversation.chat_id).in_(chats)
                )
            )
        }
        milestones = {row.milestone_id for row in rows if row.milestone_id}
        self._submitted, self._extended = {}, {}
        for milestone_id in milestones:
            milestone = session.get(Milestone, milestone_id)
            if milestone is not None:
                self._submitted[milestone_id] = submitted_enterprises(session, milestone)
                self._extended[milestone_id] = extensions(session, milestone)
        enterprise_ids = {row.enterprise_id for row in rows if row.enterprise_id}
        contact_ids = {row.contact_id for row in rows if row.contact_id}
        # Held here: the session's identity map keeps objects only weakly.
        self._held = [
            *session.exec(select(Enterprise).where(col(Enterprise.id).in_(enterprise_ids))),
            *session.exec(select(Contact).where(col(Contact.id).in_(contact_ids))),
            *session.exec(select(Milestone).where(col(Milestone.id).in_(milestones))),
            *session.exec(select(Campaign)),
        ]

    def _now(self) -> datetime:
        return self.clock()

    def _render(self, session: Session, row: Delivery) -> Outgoing | None:
        milestone = session.get(Milestone, row.milestone_id) if row.milestone_id else None
        if row.kind == "reminder" and milestone is not None and row.enterprise_id is not None:
            return self._reminder(session, row, milestone, row.enterprise_id)
        if row.kind in ("digest", "closing") and milestone is not None:
            return self._digest(session, milestone, closing=row.kind == "closing")
        if row.kind == "unreachable":
            contact = session.get(Contact, row.payload.get("contact") or 0)
            enterprise = (
                session.get(Enterprise, contact.enterprise_id)
                if contact and contact.enterprise_id
                else None
            )
            return Outgoing(
                _(
                    "%(name)s (%(enterprise)s) has blocked the bot and no longer receives "
                    "reminders. Please contact them another way."
                )
                % {
                    "name": contact.full_name if contact else "—",
                    "enterprise": enterprise.name if enterprise else "—",
                }
            )
        if row.kind == "broadcast":
            return Outgoing(str(row.payload.get("text", "")))
        if row.kind == "review":
            return self._review(row)
        if row.kind == "results" and row.enterprise_id is not None:
            return self._results(session, row, row.enterprise_id)
        if row.kind == "notice":  # a submission announced to the board, rendered when queued
            path = row.payload.get("file_path")
            return Outgoing(
                str(row.payload.get("text", "")),
                document=Path(str(path)) if path else None,
                document_name=str(row.payload.get("file_name") or ""),
                document_id=str(row.payload["file_id"]) if row.payload.get("file_id") else None,
            )
        return None

    def _results(self, session: Session, row: Delivery, enterprise_id: int) -> Outgoing | None:
        """The enterprise's results as recorded when sent (a later correction is included)."""
        campaign = campaigns.get_campaign(session=session, year=int(str(row.payload.get("year"))))
        enterprise = session.get(Enterprise, enterprise_id)
        if campaign is None or enterprise is None:
            return None
        found = results.standing(session, campaign, enterprise_id)
        lines = standing_lines(campaign.regime, campaign.year, enterprise.name, found)
        lines.append(_("Open /menu for your list with each person's result."))
        return Outgoing("\n".join(lines))

    def _review(self, row: Delivery) -> Outgoing:
        """The board's decision on a submission, in the recipient's language."""
        key = str(row.payload.get("kind", ""))
        kind = MilestoneKind(key) if key in set(MilestoneKind) else MilestoneKind.REGISTRATION
        state = str(row.payload.get("state", "received"))
        lines = [
            _("The board has reviewed your %(name)s %(reference)s: %(state)s.")
            % {"name": milestone_name(kind).lower(), "reference": row.payload.get("reference"),
               "state": review_state_name(state)}
        ]  # fmt: skip
        if row.payload.get("comment"):
            lines.append(_("Comment: %(text)s") % {"text": row.payload["comment"]})
        if state == "returned":
            lines.append(_("Please correct it and submit it again; it is open again for you."))
            return Outgoing(
                "\n".join(lines),
                ((f"g:open:{kind.value}", _("Open: %(name)s") % {"name": milestone_name(kind)}),),
            )
        return Outgoing("\n".join(lines))

    def _reminder(
        self, session: Session, row: Delivery, milestone: Milestone, enterprise_id: int
    ) -> Outgoing | None:
        """What is owed, the deadline in words, and the button that opens the flow."""
        if enterprise_id in self._submitted.get(milestone.id or 0, set()):
            return None  # submitted between planning and sending: nothing is owed
        enterprise = session.get(Enterprise, enterprise_id)
        campaign = session.get(Campaign, milestone.campaign_id)
        contact = session.get(Contact, row.contact_id) if row.contact_id else None
        if enterprise is None or campaign is None:
            return None
        extended = self._extended.get(milestone.id or 0, {}).get(enterprise_id)
        cutoff = max(milestone.due_at, extended) if extended else milestone.due_at
        name = milestone_name(milestone.kind)
        words = countdown_words(cutoff, self._now(), self.settings.tz)
        if self._now() >= cutoff:  # a manual reminder after the cut-off: it is closed now
            words = fmt_date(last_moment(cutoff), self.settings.tz)
            text = _(
                "Dear %(person)s, %(enterprise)s has not sent the %(title)s, which was due on"
                " %(deadline)s. To send it now, please contact %(contact)s to ask for an"
                " extension."
            )
        else:
            text = _(
                "Dear %(person)s, %(enterprise)s has not yet sent the %(title)s: %(deadline)s."
                " Press the button below (or type /menu) to do it now."
            )
        body = text % {
            "person": contact.full_name if contact else "",
            "enterprise": enterprise.name,
            "title": milestone_title(milestone.kind, campaign.year).lower(),
            "deadline": words,
            "contact": reach(self.settings),
        }
        return Outgoing(body, ((f"g:open:{milestone.kind}", _("Open: %(name)s") % {"name": name}),))

    def _digest(self, session: Session, milestone: Milestone, *, closing: bool) -> Outgoing:
        """Counts per zone, who still owes, and the chart."""
        campaign = session.get(Campaign, milestone.campaign_id)
        state = progress(session, milestone)
        values = {
            "title": milestone_title(milestone.kind, campaign.year if campaign else ""),
            "done": state.sent,
            "total": state.total,
            "deadline": deadline_words(milestone.due_at, self._now(), self.settings.tz),
        }
        if closing:
            head = _(
                "Closing summary — %(title)s: %(done)s/%(total)s enterprises sent it by the"
                " deadline."
            )
        else:
            head = _(
                "Daily digest — %(title)s: %(done)s/%(total)s enterprises have sent it;"
                " %(deadline)s."
            )
        lines = [head % values, *zone_lines(state), *owing_lines(state, OWING_LISTED)]
        chart = milestone_chart(self.settings, milestone, state, self._now())
        return Outgoing("\n".join(lines), image=chart)
