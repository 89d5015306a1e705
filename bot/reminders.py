"""The words of reminders, digests and notices; handed to the scheduler as its renderer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot.i18n import _, fmt_number, use_language
from bot.milestone_text import countdown_words, deadline_words, milestone_name
from bot.settings import Settings
from scheduler.dispatcher import Outgoing
from scheduler.planner import extensions, submitted_enterprises
from storage.models import (
    Campaign,
    Contact,
    Conversation,
    Delivery,
    Enterprise,
    IndustrialZone,
    Milestone,
)

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
        return None

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
        if self._now() >= cutoff:
            text = _(
                "Dear %(person)s, %(enterprise)s has not yet sent the %(name)s for %(year)s, and "
                "the"
                " deadline has passed: %(deadline)s. Please send it now, or contact %(contact)s to"
                " ask for an extension."
            )
        else:
            text = _(
                "Dear %(person)s, %(enterprise)s has not yet sent the %(name)s for %(year)s: "
                "%(deadline)s."
                " Press the button below (or type /menu) to do it now."
            )
        body = text % {
            "person": contact.full_name if contact else "",
            "enterprise": enterprise.name,
            "name": name.lower(),
            "year": campaign.year,
            "deadline": words,
            "contact": self.settings.board_contact,
        }
        return Outgoing(body, ((f"g:open:{milestone.kind}", _("Open: %(name)s") % {"name": name}),))

    def _digest(self, session: Session, milestone: Milestone, *, closing: bool) -> Outgoing:
        """Counts per zone, who still owes, and the chart."""
        campaign = session.get(Campaign, milestone.campaign_id)
        done = submitted_enterprises(session, milestone)
        rows = session.exec(
            select(Enterprise, IndustrialZone)
            .join(IndustrialZone, isouter=True)
            .where(Enterprise.active == True)  # noqa: E712
        ).all()
        per_zone: dict[str, Counter[str]] = {}
        owing: list[str] = []
        for enterprise, zone in rows:
            zone_name = zone.name if zone else _("(no zone)")
            counter = per_zone.setdefault(zone_name, Counter())
            if enterprise.id in done:
                counter["done"] += 1
            else:
                counter["owed"] += 1
                owing.append(f"{enterprise.name} ({enterprise.tax_code})")
        total_done = sum(c["done"] for c in per_zone.values())
        total = total_done + sum(c["owed"] for c in per_zone.values())
        name = milestone_name(milestone.kind)
        values = {
            "name": name,
            "year": campaign.year if campaign else "",
            "done": total_done,
            "total": total,
            "deadline": deadline_words(milestone.due_at, self._now(), self.settings.tz),
        }
        if closing:
            head = _(
                "Closing summary — %(name)s %(year)s: %(done)s/%(total)s enterprises sent it by"
                " the deadline."
            )
        else:
            head = _(
                "Daily digest — %(name)s %(year)s: %(done)s/%(total)s enterprises have sent it;"
                " %(deadline)s."
            )
        head = head % values
        lines = [head]
        lines += [
            _("• %(zone)s: %(done)s sent, %(owed)s still owing")
            % {"zone": zone, "done": c["done"], "owed": c["owed"]}
            for zone, c in sorted(per_zone.items())
        ]
        if owing:
            lines.append(_("Still owing:"))
            lines += owing[:OWING_LISTED]
            if len(owing) > OWING_LISTED:
                lines.append(_("… and %(n)s more.") % {"n": fmt_number(len(owing) - OWING_LISTED)})
        chart = self._chart(milestone, per_zone)
        return Outgoing("\n".join(lines), image=chart)

    def _chart(self, milestone: Milestone, per_zone: dict[str, Counter[str]]) -> Path:
        """A PNG bar chart of sent and owing per zone."""
        from bot.charts import zone_chart

        folder = self.settings.data_dir / "charts"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"milestone-{milestone.id}-{self._now().strftime('%Y%m%d%H%M')}.png"
        zone_chart(
            path,
            title=milestone_name(milestone.kind),
            zones=sorted(per_zone),
            done=[per_zone[z]["done"] for z in sorted(per_zone)],
            owed=[per_zone[z]["owed"] for z in sorted(per_zone)],
            labels=(_("Sent"), _("Still owing")),
        )
        return path
