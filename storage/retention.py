"""How long uploaded files are kept: documents of a closed campaign go after the set days,
their records stay; forms held for a confirmation go after two days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import audit
from storage.files import path_of, sweep_scratch
from storage.models import Campaign, Extension, Milestone, Report, ReportDocument, StoredFile

HELD_FORMS = timedelta(days=2)  # a sent registration form waiting for "use this list?"


@dataclass(frozen=True)
class Pruned:
    """What one pass removed."""

    years: tuple[int, ...]  # the campaigns whose documents went
    files: int
    size: int


def closed_at(session: Session, campaign: Campaign) -> datetime | None:
    """The campaign's last cut-off, extensions included (None: it has no milestone)."""
    due = session.exec(
        select(func.max(Milestone.due_at)).where(Milestone.campaign_id == campaign.id)
    ).one()
    extended = session.exec(
        select(func.max(Extension.until)).where(Extension.campaign_id == campaign.id)
    ).one()
    found = [d for d in (due, extended) if d is not None]
    return max(found) if found else None


def expired_campaigns(session: Session, now: datetime, keep_days: int) -> list[Campaign]:
    """Campaigns whose last cut-off is more than keep_days ago."""
    limit = now - timedelta(days=keep_days)
    return [
        c
        for c in session.exec(select(Campaign).order_by(col(Campaign.year)))
        if (closed := closed_at(session, c)) is not None and closed < limit
    ]


def expired_files(
    session: Session, now: datetime, keep_days: int
) -> tuple[tuple[int, ...], list[StoredFile]]:
    """The years and the documents only campaigns closed more than keep_days ago refer to (a
    byte-identical file sent again in a later campaign stays)."""
    expired = {c.id: c.year for c in expired_campaigns(session, now, keep_days)}
    used = session.exec(
        select(StoredFile, Report.campaign_id)
        .join(ReportDocument, col(ReportDocument.file_id) == col(StoredFile.id))
        .join(Report, col(Report.id) == col(ReportDocument.report_id))
        .where(col(StoredFile.removed_at).is_(None))
    ).all()
    live = {stored.id for stored, campaign_id in used if campaign_id not in expired}
    gone = {stored.id: stored for stored, _ in used if stored.id not in live}
    years = sorted({expired[cid] for stored, cid in used if stored.id in gone})
    return tuple(years), list(gone.values())


def prune_documents(
    session: Session,
    root: Path,
    now: datetime,
    keep_days: int,
    *,
    actor: str,
    dry_run: bool = False,
) -> Pruned:
    """Marks expired documents removed, commits, then deletes their content; a file marked
    before a crash cut the deletion short is deleted on the next pass."""
    years, gone = expired_files(session, now, keep_days)
    found = Pruned(years, len(gone), sum(s.size for s in gone))
    if dry_run:
        return found
    for stored in gone:
        stored.removed_at = now
        session.add(stored)
    if gone:
        audit.record(
            db=session, actor=actor, action="files.prune", now=now,
            target=",".join(str(y) for y in years),
            details={"files": found.files, "bytes": found.size, "keep_days": keep_days},
        )  # fmt: skip
    session.commit()
    for stored in session.exec(select(StoredFile).where(col(StoredFile.removed_at).isnot(None))):
        path_of(stored, root).unlink(missing_ok=True)
    return found


def sweep_held_forms(folder: Path, now: datetime) -> int:
    """Deletes registration forms kept for a confirmation nobody gave within two days."""
    return sweep_scratch(folder, now, HELD_FORMS)
