"""Turning a draft into a numbered submission: the receipt number is taken once, race-safe."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Campaign, Enterprise, Registration, Report, SubmissionStatus

S = TypeVar("S", Registration, Report)


class SubmissionError(ValueError):
    """A change to a registration or report refused for a reason the message layer names;
    nothing was written."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def newest(
    *,
    session: Session,
    model: type[S],
    status: SubmissionStatus,
    campaign: Campaign,
    enterprise: Enterprise,
    where: tuple[Any, ...] = (),
) -> S | None:
    """An enterprise's newest version in ``status``: its draft, or its current submission."""
    query = select(model).where(
        model.campaign_id == campaign.id,
        model.enterprise_id == enterprise.id,
        model.status == status,
        *where,
    )
    return session.exec(query.order_by(col(model.version).desc())).first()


class SubmissionBusy(RuntimeError):
    """Too many submissions took numbers at once; the caller asks the person to retry."""


def stamp_submitted(
    *,
    session: Session,
    draft: Registration | Report,
    prefix: str,
    year: int,
    taken: int,
    now: datetime,
    contact_id: int | None,
) -> None:
    """Marks the draft submitted with the next free receipt (DK-2026-0042); retries on a clash."""
    session.flush()
    for serial in range(taken + 1, taken + 50):  # another worker may take a number first
        try:
            with session.begin_nested():  # a failed savepoint expires what it flushed: set all
                draft.status = SubmissionStatus.SUBMITTED
                draft.submitted_at = now
                draft.submitted_by = contact_id
                draft.updated_at = now
                draft.reference = f"{prefix}-{year}-{serial:04d}"
                session.flush()
            return
        except IntegrityError:
            continue
    raise SubmissionBusy(prefix)
