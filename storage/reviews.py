"""The board's review of submissions: received, has issues, approved, or returned to the sender."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    Enterprise,
    Registration,
    Report,
    ReviewState,
    SubmissionStatus,
)

Submission = Registration | Report


def newest_submissions(
    *, session: Session, campaign: Campaign, kind: str
) -> list[tuple[Enterprise, Submission]]:
    """Each enterprise's newest submission of a kind ("registration" or a report kind)."""
    rows: list[Submission] = []
    if kind == "registration":
        registrations = session.exec(
            select(Registration).where(
                Registration.campaign_id == campaign.id,
                Registration.status == SubmissionStatus.SUBMITTED,
            )
        ).all()
        rows.extend(registrations)
    else:
        reports = session.exec(
            select(Report).where(
                Report.campaign_id == campaign.id,
                Report.kind == kind,
                Report.status == SubmissionStatus.SUBMITTED,
            )
        ).all()
        rows.extend(reports)
    newest: dict[int, Submission] = {}
    for row in rows:
        if row.enterprise_id not in newest or row.version > newest[row.enterprise_id].version:
            newest[row.enterprise_id] = row
    found = session.exec(select(Enterprise).where(col(Enterprise.id).in_(set(newest))))
    enterprises = {e.id: e for e in found}
    pairs = [(enterprises[e], row) for e, row in newest.items() if e in enterprises]
    return sorted(pairs, key=lambda pair: pair[1].submitted_at or pair[1].updated_at, reverse=True)


def set_review(
    *,
    session: Session,
    submission: Submission,
    state: ReviewState,
    comment: str | None,
    reviewer: int | None,
    now: datetime,
) -> None:
    """Records the board's decision on one submission."""
    submission.review_state = state
    submission.review_comment = comment
    submission.reviewed_by = reviewer
    submission.reviewed_at = now
    session.flush()


def is_returned(submission: Submission | None) -> bool:
    """A returned submission reopens the enterprise's flow, even after the cut-off."""
    return submission is not None and submission.review_state == ReviewState.RETURNED
