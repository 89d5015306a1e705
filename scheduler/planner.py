"""Plans what is owed into the outbox; the unique key makes planning twice insert nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from scheduler.policy import last_day, latest_due, step_times
from storage import campaigns
from storage.models import (
    ChatLink,
    Contact,
    Delivery,
    Enterprise,
    Extension,
    IndustrialZone,
    Milestone,
    MilestoneKind,
    Registration,
    RegistrationStatus,
    Report,
    Role,
)

DIGEST_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Target:
    """A chat to write to."""

    channel: str
    chat_id: str


def submitted_enterprises(session: Session, milestone: Milestone) -> set[int]:
    """Enterprises that have met a milestone (submitted at least once)."""
    if milestone.kind == MilestoneKind.REGISTRATION:
        query = select(Registration.enterprise_id).where(
            Registration.campaign_id == milestone.campaign_id,
            Registration.status == RegistrationStatus.SUBMITTED,
        )
    else:
        query = select(Report.enterprise_id).where(
            Report.campaign_id == milestone.campaign_id,
            Report.kind == milestone.kind,
            Report.status == RegistrationStatus.SUBMITTED,
        )
    return set(session.exec(query.distinct()))


@dataclass
class Progress:
    """Who has met a milestone, per zone (None: no zone), and the enterprises still owing."""

    per_zone: dict[str | None, tuple[int, int]]  # zone name -> (sent, owing)
    owing: list[Enterprise]

    @property
    def sent(self) -> int:
        """Enterprises that have sent it."""
        return sum(done for done, _owed in self.per_zone.values())

    @property
    def total(self) -> int:
        """Enterprises expected to send it."""
        return sum(done + owed for done, owed in self.per_zone.values())


def progress(session: Session, milestone: Milestone) -> Progress:
    """Counts per zone and the list of enterprises that still owe a milestone."""
    done = submitted_enterprises(session, milestone)
    rows = session.exec(
        select(Enterprise, IndustrialZone)
        .join(IndustrialZone, isouter=True)
        .where(col(Enterprise.active).is_(True))
        .order_by(col(Enterprise.name_key))
    ).all()
    counts: dict[str | None, list[int]] = {}
    owing: list[Enterprise] = []
    for enterprise, zone in rows:
        pair = counts.setdefault(zone.name if zone else None, [0, 0])
        if enterprise.id in done:
            pair[0] += 1
        else:
            pair[1] += 1
            owing.append(enterprise)
    return Progress({zone: (a, b) for zone, (a, b) in counts.items()}, owing)


def is_owed(session: Session, milestone: Milestone, enterprise_id: int) -> bool:
    """Whether one enterprise still owes the milestone (checked again right before sending)."""
    if milestone.kind == MilestoneKind.REGISTRATION:
        query = select(Registration.id).where(
            Registration.campaign_id == milestone.campaign_id,
            Registration.enterprise_id == enterprise_id,
            Registration.status == RegistrationStatus.SUBMITTED,
        )
    else:
        query = select(Report.id).where(
            Report.campaign_id == milestone.campaign_id,
            Report.enterprise_id == enterprise_id,
            Report.kind == milestone.kind,
            Report.status == RegistrationStatus.SUBMITTED,
        )
    return session.exec(query.limit(1)).first() is None


def cutoff_of(session: Session, milestone: Milestone, enterprise_id: int) -> datetime:
    """One enterprise's cut-off for a milestone, its extension applied."""
    extended = session.exec(
        select(Extension.until).where(
            Extension.campaign_id == milestone.campaign_id,
            Extension.kind == milestone.kind,
            Extension.enterprise_id == enterprise_id,
        )
    ).first()
    return max(milestone.due_at, extended) if extended else milestone.due_at


def extensions(session: Session, milestone: Milestone) -> dict[int, datetime]:
    """Later cut-offs granted for a milestone, by enterprise."""
    return dict(
        session.exec(
            select(Extension.enterprise_id, Extension.until).where(
                Extension.campaign_id == milestone.campaign_id, Extension.kind == milestone.kind
            )
        ).all()
    )


def enterprise_cutoffs(session: Session, milestone: Milestone) -> dict[int, datetime]:
    """Each enterprise's cut-off for a milestone, extensions applied."""
    extended = extensions(session, milestone)
    enterprises = session.exec(select(Enterprise.id).where(col(Enterprise.active).is_(True)))
    return {e: max(milestone.due_at, extended.get(e, milestone.due_at)) for e in enterprises if e}


def _recipients(session: Session) -> dict[int, list[tuple[int, str, str]]]:
    """Reachable chats of every enterprise contact, by enterprise."""
    rows = session.exec(
        select(Contact.enterprise_id, Contact.id, ChatLink.channel, ChatLink.chat_id)
        .join(ChatLink, col(ChatLink.contact_id) == col(Contact.id))
        .where(Contact.role == Role.CONTACT, col(ChatLink.reachable).is_(True))
    ).all()
    found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for enterprise_id, contact_id, channel, chat_id in rows:
        if enterprise_id is not None and contact_id is not None:
            found[enterprise_id].append((contact_id, channel, chat_id))
    return found


def _insert(session: Session, rows: list[dict[str, object]]) -> int:
    """Inserts outbox rows, skipping keys already planned; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Delivery.__table__  # type: ignore[attr-defined]
    # RETURNING counts what was new on both backends (psycopg reports rowcount -1 here).
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    )
    connection = session.connection()
    created = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        created += len(connection.execute(statement, chunk[0] if len(chunk) == 1 else chunk).all())
    return created


def plan(
    *, session: Session, now: datetime, tz: ZoneInfo, board: Target | None = None
) -> list[dict[str, object]]:
    """Adds every reminder and board digest due at ``now`` to the outbox; returns the rows."""
    campaign = campaigns.get_campaign(session=session)
    if campaign is None:
        return []
    recipients = _recipients(session)
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
            step = latest_due(steps, now)
            if step is None:
                continue
            for contact_id, channel, chat_id in recipients.get(enterprise_id, []):
                rows.append(
                    _row(
                        # the cut-off is part of the key: an extension starts a fresh series
                        f"reminder:{milestone.id}:{enterprise_id}:{int(cutoff.timestamp())}:"
                        f"{contact_id}:{step}:{channel}:{chat_id}",
                        "reminder",
                        now,
                        channel,
                        chat_id,
                        milestone=milestone.id,
                        enterprise=enterprise_id,
                        contact=contact_id,
                        step=step,
                    )
                )
        if board is not None:
            rows += _digests(milestone, now, tz, board)
    _insert(session, rows)
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
        return [_row(key, "digest", now, board.channel, board.chat_id, milestone=milestone.id)]
    if today == final + timedelta(days=1):
        key = f"closing:{milestone.id}:{board.channel}:{board.chat_id}"
        return [_row(key, "closing", now, board.channel, board.chat_id, milestone=milestone.id)]
    return []


def _row(
    key: str,
    kind: str,
    now: datetime,
    channel: str,
    chat_id: str,
    *,
    milestone: int | None = None,
    enterprise: int | None = None,
    contact: int | None = None,
    step: int | None = None,
    payload: dict[str, object] | None = None,
) -> dict[str, object]:
    return {
        "dedupe_key": key[:200],
        "kind": kind,
        "milestone_id": milestone,
        "enterprise_id": enterprise,
        "contact_id": contact,
        "step": step,
        "channel": channel,
        "chat_id": chat_id,
        "payload": payload or {},
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }


def enqueue(
    *,
    session: Session,
    key: str,
    kind: str,
    target: Target,
    now: datetime,
    payload: dict[str, object] | None = None,
) -> bool:
    """Adds one message (a board notice, a broadcast line) unless its key was used before."""
    return (
        _insert(session, [_row(key, kind, now, target.channel, target.chat_id, payload=payload)])
        == 1
    )


def enqueue_reminder(
    *, session: Session, milestone: Milestone, enterprise_id: int, contact_id: int,
    target: Target, key: str, now: datetime,
) -> int:  # fmt: skip
    """Queues one reminder now (the board's "remind them"); 1 if new, 0 if the key was used."""
    row = _row(
        key, "reminder", now, target.channel, target.chat_id, milestone=milestone.id,
        enterprise=enterprise_id, contact=contact_id,
    )  # fmt: skip
    return _insert(session, [row])
