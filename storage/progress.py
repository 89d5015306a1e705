"""Who has met a milestone and who still owes it, per zone, with each enterprise's cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    Enterprise,
    Extension,
    IndustrialZone,
    Milestone,
    MilestoneKind,
    Registration,
    Report,
    SubmissionStatus,
)

_CAMPAIGN: sa.Table = Campaign.__table__  # type: ignore[attr-defined]
_REGISTRATION: sa.Table = Registration.__table__  # type: ignore[attr-defined]
_REPORT: sa.Table = Report.__table__  # type: ignore[attr-defined]


def submitted_enterprises(session: Session, milestone: Milestone) -> set[int]:
    """Enterprises that have met a milestone (submitted at least once)."""
    if milestone.kind == MilestoneKind.REGISTRATION:
        query = select(Registration.enterprise_id).where(
            Registration.campaign_id == milestone.campaign_id,
            Registration.status == SubmissionStatus.SUBMITTED,
        )
    else:
        query = select(Report.enterprise_id).where(
            Report.campaign_id == milestone.campaign_id,
            Report.kind == milestone.kind,
            Report.status == SubmissionStatus.SUBMITTED,
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
    """Each active enterprise's cut-off for a milestone, extensions applied."""
    extended = extensions(session, milestone)
    enterprises = session.exec(select(Enterprise.id).where(col(Enterprise.active).is_(True)))
    return {e: max(milestone.due_at, extended.get(e, milestone.due_at)) for e in enterprises if e}


@dataclass(frozen=True)
class Standing:
    """An enterprise's newest submission of one milestone, with the board's decision on it."""

    reference: str
    version: int
    submitted_at: datetime
    review_state: str
    review_comment: str | None

    @classmethod
    def of(cls, submission: Registration | Report) -> Standing:
        """The standing of a submission already loaded."""
        assert submission.reference is not None and submission.submitted_at is not None
        return cls(
            submission.reference, submission.version, submission.submitted_at,
            submission.review_state, submission.review_comment,
        )  # fmt: skip


_STANDING_COLUMNS = ("reference", "version", "submitted_at", "review_state", "review_comment")


def _standing_query(table: sa.Table, kind: sa.ColumnElement[str]) -> sa.Select[Any]:
    """One submission table's submitted versions for an enterprise and campaign year."""
    return (
        sa.select(kind.label("kind"), *(table.c[name] for name in _STANDING_COLUMNS))
        .join(_CAMPAIGN, _CAMPAIGN.c.id == table.c.campaign_id)
        .where(
            _CAMPAIGN.c.year == sa.bindparam("year"),
            table.c.enterprise_id == sa.bindparam("enterprise_id"),
            table.c.status == SubmissionStatus.SUBMITTED.value,
        )
    )


# Every contact's menu shows them: one statement, built once (both tables, oldest first).
_STANDINGS = sa.union_all(
    _standing_query(
        _REGISTRATION, sa.literal_column(f"'{MilestoneKind.REGISTRATION.value}'", sa.String)
    ),
    _standing_query(_REPORT, _REPORT.c.kind),
).order_by(sa.column("version"))


def standings(conn: Connection, *, year: int, enterprise_id: int) -> dict[str, Standing]:
    """Each milestone's newest submitted version for one enterprise in the year's campaign."""
    found: dict[str, Standing] = {}
    for row in conn.execute(_STANDINGS, {"year": year, "enterprise_id": enterprise_id}):
        found[row.kind] = Standing(*(row._mapping[name] for name in _STANDING_COLUMNS))
    return found
