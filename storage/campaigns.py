"""Campaigns and their milestones, with the board plan's default dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import Campaign, Enterprise, Extension, Milestone, MilestoneKind, Regime
from storage.progress import extensions, submitted_enterprises
from storage.registry import RegistryError

# The plan: register "before 15/4", mid-year review at 30/6, report "before 05/12".
DEFAULT_CUTOFFS: dict[MilestoneKind, tuple[int, int]] = {
    MilestoneKind.REGISTRATION: (4, 15),
    MilestoneKind.MIDYEAR: (7, 1),
    MilestoneKind.REPORT: (12, 5),
}
_REGIME_STARTS = [
    (datetime(2025, 7, 1, tzinfo=UTC), Regime.ND152_2025),
    (datetime(2024, 1, 1, tzinfo=UTC), Regime.ND98_2023),
]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in the board's time zone."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def default_cutoff(year: int, kind: MilestoneKind, tz: ZoneInfo) -> datetime:
    """The plan's cut-off for a milestone: on time means strictly before this instant."""
    month, day = DEFAULT_CUTOFFS[kind]
    return local_midnight(date(year, month, day), tz)


def regime_in_force(at: datetime) -> Regime:
    """The legal regime whose decree governs an evaluation made at ``at``."""
    for start, regime in _REGIME_STARTS:
        if at >= start:
            return regime
    return Regime.ND91_2017


def create_campaign(
    *,
    session: Session,
    year: int,
    board_name: str,
    now: datetime,
    tz: ZoneInfo,
    cutoffs: dict[MilestoneKind, datetime | None] | None = None,
    regime: Regime | None = None,
) -> Campaign:
    """Creates a year's campaign; a cutoff given as None leaves that milestone out."""
    if not 2000 <= year <= 2100:
        raise RegistryError("campaign_year_invalid", year=year)
    if session.exec(select(Campaign.id).where(Campaign.year == year)).first():
        raise RegistryError("campaign_exists", year=year)
    chosen: dict[MilestoneKind, datetime | None] = {
        kind: default_cutoff(year, kind, tz) for kind in MilestoneKind
    }
    chosen.update(cutoffs or {})
    present = [(kind, due) for kind, due in chosen.items() if due is not None]
    dues = [due for _, due in present]
    if dues != sorted(dues):
        raise RegistryError("milestones_out_of_order")
    # Awards are decided on the year-end evaluation, so its decree governs the campaign (a
    # 2025 campaign is judged under NĐ 152/2025, though it registered under NĐ 98/2023).
    evaluated = evaluation(dict(present))
    assert evaluated is not None  # the registration's cut-off at least
    campaign = Campaign(
        year=year,
        regime=regime or regime_in_force(evaluated),
        board_name=board_name,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    for kind, due in present:
        session.add(Milestone(campaign_id=campaign.id, kind=kind, due_at=due))
    session.flush()
    return campaign


def create_from(
    *, session: Session, year: int, previous: int, now: datetime, tz: ZoneInfo,
    cutoffs: dict[MilestoneKind, datetime | None] | None = None, regime: Regime | None = None,
    board_name: str | None = None,
) -> Campaign:  # fmt: skip
    """Next year from this one: the previous campaign's milestones on the same local days
    (29/2 becomes 28/2), with their reminder plan, and its board name; what is given here wins.
    The registry, contacts and chats belong to no year: they simply stay."""
    before = require_campaign(session=session, year=previous)
    stones = {MilestoneKind(m.kind): m for m in milestones(session=session, campaign=before)}
    shifted: dict[MilestoneKind, datetime | None] = {kind: None for kind in MilestoneKind}
    for kind, stone in stones.items():
        local = stone.due_at.astimezone(tz)
        moved = local.year - previous + year
        day = local.day if (local.month, local.day) != (2, 29) else 28
        shifted[kind] = datetime.combine(
            date(moved, local.month, day), local.timetz().replace(tzinfo=None), tzinfo=tz
        ).astimezone(UTC)
    shifted.update(cutoffs or {})
    campaign = create_campaign(
        session=session, year=year, board_name=board_name or before.board_name, now=now, tz=tz,
        cutoffs=shifted, regime=regime,
    )  # fmt: skip
    for stone in milestones(session=session, campaign=campaign):
        old = stones.get(MilestoneKind(stone.kind))
        if old is not None:
            stone.reminder_days = list(old.reminder_days)
            stone.send_time, stone.working_days_only = old.send_time, old.working_days_only
            session.add(stone)
    session.flush()
    return campaign


def get_campaign(*, session: Session, year: int | None = None) -> Campaign | None:
    """The campaign of ``year``, or the latest one."""
    query = select(Campaign)
    if year is not None:
        query = query.where(Campaign.year == year)
    return session.exec(query.order_by(col(Campaign.year).desc())).first()


def require_campaign(*, session: Session, year: int | None = None) -> Campaign:
    """The campaign of ``year`` (the latest by default); raises RegistryError naming the years
    there are when it is missing."""
    found = get_campaign(session=session, year=year)
    if found is not None:
        return found
    if year is None:
        raise RegistryError("campaign_missing")
    there = ", ".join(map(str, years(session=session))) or "—"
    raise RegistryError("campaign_year_missing", year=year, years=there)


def years(*, session: Session) -> list[int]:
    """The years that have a campaign, oldest first."""
    return list(session.exec(select(Campaign.year).order_by(col(Campaign.year))))


@dataclass(frozen=True)
class Schedule:
    """The latest campaign's cut-offs for one enterprise, its extensions applied."""

    year: int
    dues: dict[str, datetime]  # milestone kind -> cut-off


_CAMPAIGN: sa.Table = Campaign.__table__  # type: ignore[attr-defined]
_MILESTONE: sa.Table = Milestone.__table__  # type: ignore[attr-defined]
_EXTENSION: sa.Table = Extension.__table__  # type: ignore[attr-defined]
_LATEST = sa.select(_CAMPAIGN.c.id).order_by(_CAMPAIGN.c.year.desc()).limit(1).scalar_subquery()
_SCHEDULE = (  # every menu shows it: one prepared statement
    sa.select(_CAMPAIGN.c.year, _MILESTONE.c.kind, _MILESTONE.c.due_at, _EXTENSION.c.until)
    .select_from(
        _CAMPAIGN.outerjoin(_MILESTONE, _MILESTONE.c.campaign_id == _CAMPAIGN.c.id).outerjoin(
            _EXTENSION,
            sa.and_(
                _EXTENSION.c.campaign_id == _CAMPAIGN.c.id,
                _EXTENSION.c.kind == _MILESTONE.c.kind,
                _EXTENSION.c.enterprise_id == sa.bindparam("enterprise_id"),
            ),
        )
    )
    .where(_CAMPAIGN.c.id == _LATEST)
)


def schedule(*, conn: Connection, enterprise_id: int | None) -> Schedule | None:
    """The latest campaign's year and cut-offs for an enterprise (None: board and admins)."""
    rows = conn.execute(_SCHEDULE, {"enterprise_id": enterprise_id}).all()
    if not rows:
        return None
    dues = {
        kind: max(due, until) if until is not None else due
        for _year, kind, due, until in rows
        if kind is not None
    }
    return Schedule(rows[0].year, dues)


def evaluation(dues: dict[MilestoneKind, datetime]) -> datetime | None:
    """When the year is evaluated and the awards decided: the year-end report's cut-off, else
    the last milestone's (None for a campaign without any)."""
    return dues.get(MilestoneKind.REPORT) or max(dues.values(), default=None)


def milestones(*, session: Session, campaign: Campaign) -> list[Milestone]:
    """A campaign's milestones in date order."""
    query = select(Milestone).where(Milestone.campaign_id == campaign.id)
    return list(session.exec(query.order_by(col(Milestone.due_at))))


def set_deadline(
    *, session: Session, campaign: Campaign, kind: MilestoneKind, cutoff: datetime
) -> Milestone:
    """Moves (or adds) a milestone of a campaign; the order of milestones must stay."""
    check_order(session=session, campaign=campaign, kind=kind, cutoff=cutoff)
    stones = {m.kind: m for m in milestones(session=session, campaign=campaign)}
    stone = stones.get(kind)
    if stone is None:
        assert campaign.id is not None
        stone = Milestone(campaign_id=campaign.id, kind=kind, due_at=cutoff)
        session.add(stone)
    else:
        stone.due_at = cutoff
    session.flush()
    return stone


def check_order(
    *, session: Session, campaign: Campaign, kind: MilestoneKind, cutoff: datetime
) -> None:
    """Refuses a move that would put the milestones out of their order."""
    dues = {m.kind: m.due_at for m in milestones(session=session, campaign=campaign)}
    dues[kind] = cutoff
    ordered = [dues[k] for k in MilestoneKind if k in dues]
    if ordered != sorted(ordered):
        raise RegistryError("milestones_out_of_order")


def check_day(*, campaign: Campaign, day: date) -> None:
    """A deadline's last day must lie within a year of the campaign's own (01/01/1900 or
    31/12/9999 is a slip of the keyboard, and the latter overflowed)."""
    if not campaign.year - 1 <= day.year <= campaign.year + 1:
        raise RegistryError(
            "deadline_far", year=campaign.year, first=campaign.year - 1, last=campaign.year + 1
        )


def closed_by_move(
    *, session: Session, campaign: Campaign, kind: MilestoneKind, cutoff: datetime, now: datetime
) -> int:
    """How many enterprises still owing a milestone a move to ``cutoff`` would close at once:
    open now (their own cut-off, extensions included, ahead), closed after the move."""
    stone = next(
        (m for m in milestones(session=session, campaign=campaign) if m.kind == kind), None
    )
    if stone is None:
        return 0
    done = submitted_enterprises(session, stone)
    extended = extensions(session, stone)
    active = session.exec(select(Enterprise.id).where(col(Enterprise.active).is_(True)))
    closed = 0
    for enterprise in active:
        if enterprise is None or enterprise in done:
            continue
        before = max(stone.due_at, extended.get(enterprise, stone.due_at))
        after = max(cutoff, extended.get(enterprise, cutoff))
        closed += before > now >= after
    return closed
