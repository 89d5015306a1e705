"""Plans what is owed into the outbox; the unique key makes planning twice insert nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler.policy import due_step, last_day, step_times
from storage import campaigns, links, outbox
from storage.models import Milestone
from storage.outbox import Target
from storage.progress import enterprise_cutoffs, submitted_enterprises

DIGEST_WINDOW_DAYS = 14


def plan(
    *, session: Session, now: datetime, tz: ZoneInfo, board: Target | None = None
) -> list[dict[str, object]]:
    """Adds every reminder and board digest due at ``now`` to the outbox; returns the rows."""
    campaign = campaigns.get_campaign(session=session)
    if campaign is None:
        return []
    recipients: dict[int, list[links.Recipient]] = defaultdict(list)
    for recipient in links.one_chat_each(links.reachable_chats(session=session)):
        recipients[recipient.enterprise_id].append(recipient)
    rows: list[dict[str, object]] = []
    for milestone in campaigns.milestones(session=session, campaign=campaign):
        done = submitted_enterprises(session, milestone)
        for enterprise_id, cutoff in enterprise_cutoffs(session, milestone).items():
            if enterprise_id in done:
                continue
            steps = step_times(
                cutoff=cutoff,
                days=list(milestone.reminder_days),
                send_time=milestone.send_time,
                tz=tz,
                working_days_only=milestone.working_days_only,
            )
            step = due_step(steps, now, cutoff)
            if step is None:
                continue
            for recipient in recipients.get(enterprise_id, []):
                target = recipient.target
                rows.append(
                    outbox.row(
                        # the cut-off is part of the key: an extension starts a fresh series;
                        # the chat is not: one reminder per person and step, whichever chat
                        f"reminder:{milestone.id}:{enterprise_id}:{int(cutoff.timestamp())}:"
                        f"{recipient.contact_id}:{step}",
                        "reminder",
                        now,
                        target,
                        milestone=milestone.id,
                        enterprise=enterprise_id,
                        contact=recipient.contact_id,
                        step=step,
                    )
                )
        if board is not None:
            rows += _digests(milestone, now, tz, board)
    outbox.insert(session, rows)
    return rows


def _digests(
    milestone: Milestone, now: datetime, tz: ZoneInfo, board: Target
) -> list[dict[str, object]]:
    """The board's daily digest in the last 14 days and on the day, then a closing summary."""
    final = last_day(milestone.due_at, tz)
    hour, minute = (int(p) for p in milestone.send_time.split(":"))
    local = now.astimezone(tz)
    if (local.hour, local.minute) < (hour, minute):
        return []
    today = local.date()
    if final - timedelta(days=DIGEST_WINDOW_DAYS) <= today <= final:
        key = f"digest:{milestone.id}:{today.isoformat()}:{board.channel}:{board.chat_id}"
        return [outbox.row(key, "digest", now, board, milestone=milestone.id)]
    if today == final + timedelta(days=1):
        key = f"closing:{milestone.id}:{board.channel}:{board.chat_id}"
        return [outbox.row(key, "closing", now, board, milestone=milestone.id)]
    return []
