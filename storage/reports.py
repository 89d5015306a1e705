"""Year-end and mid-year reports: a draft filled step by step, submitted as numbered versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    Enterprise,
    MilestoneKind,
    Report,
    ReportDocument,
    StoredFile,
    SubmissionStatus,
)
from storage.report_figures import check_form, figures_for
from storage.versions import SubmissionBusy, SubmissionError, newest, stamp_submitted

PREFIX = {MilestoneKind.REPORT: "BC", MilestoneKind.MIDYEAR: "SK"}


def latest_submitted(
    *, session: Session, campaign: Campaign, enterprise: Enterprise, kind: str
) -> Report | None:
    """The current submitted version of a kind of report."""
    return newest(
        session=session, model=Report, status=SubmissionStatus.SUBMITTED, campaign=campaign,
        enterprise=enterprise, where=(Report.kind == kind,),
    )  # fmt: skip


def open_draft(
    *, session: Session, campaign: Campaign, enterprise: Enterprise, kind: str, now: datetime,
    contact_id: int | None,
) -> Report:  # fmt: skip
    """The enterprise's draft, or a new one holding the last submission's figures and files."""
    found = newest(
        session=session, model=Report, status=SubmissionStatus.DRAFT, campaign=campaign,
        enterprise=enterprise, where=(Report.kind == kind,),
    )  # fmt: skip
    if found is not None:
        return found
    assert campaign.id is not None and enterprise.id is not None
    previous = latest_submitted(
        session=session, campaign=campaign, enterprise=enterprise, kind=kind
    )
    draft = Report(
        campaign_id=campaign.id,
        enterprise_id=enterprise.id,
        kind=kind,
        version=(previous.version + 1) if previous else 1,
        figures=dict(previous.figures) if previous else {},
        updated_by=contact_id,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    if previous is not None:
        rows = [
            {
                "report_id": draft.id,
                "file_id": d.file_id,
                "signed": d.signed,
                "name": d.name,
                "channel": d.channel,
                "channel_file_id": d.channel_file_id,
            }
            for d in documents(session=session, report=previous)
        ]
        if rows:
            session.execute(insert(ReportDocument), rows)
    return draft


def _touch(report: Report, now: datetime, contact_id: int | None) -> None:
    if report.status != SubmissionStatus.DRAFT:
        raise SubmissionError("registration_not_draft")
    report.revision += 1
    report.updated_at = now
    report.updated_by = contact_id


def set_figure(
    *, session: Session, report: Report, key: str, value: object, now: datetime,
    contact_id: int | None,
) -> None:  # fmt: skip
    """Saves one validated figure in the draft at once (so a stopped contact loses nothing)."""
    _touch(report, now, contact_id)
    report.figures = {**report.figures, key: value}
    session.flush()


def documents(*, session: Session, report: Report) -> list[ReportDocument]:
    """The report's documents, the signed one first."""
    query = select(ReportDocument).where(ReportDocument.report_id == report.id)
    return list(
        session.exec(query.order_by(col(ReportDocument.signed).desc(), col(ReportDocument.id)))
    )


def attach(
    *, session: Session, report: Report, stored: StoredFile, signed: bool, name: str,
    channel: str | None, channel_file_id: str | None, now: datetime, contact_id: int | None,
) -> ReportDocument:  # fmt: skip
    """Attaches a stored file; a new signed report replaces the previous signed one."""
    _touch(report, now, contact_id)
    assert report.id is not None and stored.id is not None
    if signed:
        for old in documents(session=session, report=report):
            if old.signed:
                session.delete(old)
    document = ReportDocument(
        report_id=report.id, file_id=stored.id, signed=signed, name=name[:200],
        channel=channel, channel_file_id=channel_file_id,
    )  # fmt: skip
    session.add(document)
    session.flush()
    return document


def missing(report: Report, *, session: Session) -> list[str]:
    """What still has to be given before submitting: figure keys, and "signed" for the document."""
    gaps = [f.key for f in figures_for(report.kind) if f.required and f.key not in report.figures]
    if not any(d.signed for d in documents(session=session, report=report)):
        gaps.append("signed")
    return gaps


def submit(
    *, session: Session, draft: Report, campaign: Campaign, expected_revision: int,
    now: datetime, contact_id: int | None,
) -> Report:  # fmt: skip
    """Turns the draft into the next version with a receipt (BC-2026-0017)."""
    if draft.status != SubmissionStatus.DRAFT:
        raise SubmissionError("registration_already_submitted", version=draft.version)
    if draft.revision != expected_revision:
        raise SubmissionError("registration_changed")
    if missing(draft, session=session):
        raise SubmissionError("report_incomplete")
    if any(f.blocking for f in check_form(draft.kind, draft.figures)):
        raise SubmissionError("report_inconsistent")
    count = session.exec(
        select(func.count())
        .select_from(Report)
        .where(
            Report.campaign_id == campaign.id,
            Report.kind == draft.kind,
            Report.status == SubmissionStatus.SUBMITTED,
        )
    ).one()
    prefix = PREFIX.get(MilestoneKind(draft.kind), "BC")
    try:
        stamp_submitted(
            session=session,
            draft=draft,
            prefix=prefix,
            year=campaign.year,
            taken=count,
            now=now,
            contact_id=contact_id,
        )
    except SubmissionBusy:
        raise SubmissionError("registration_busy") from None
    return draft


def enterprises_reported(*, session: Session, campaign: Campaign, kind: str) -> int:
    """How many enterprises have submitted this kind of report."""
    return int(
        session.exec(
            select(func.count(func.distinct(Report.enterprise_id))).where(
                Report.campaign_id == campaign.id,
                Report.kind == kind,
                Report.status == SubmissionStatus.SUBMITTED,
            )
        ).one()
    )
