"""When each reminder of a milestone is due: days before the last day, at a local hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def last_day(cutoff: datetime, tz: ZoneInfo) -> date:
    """The last local day that is still on time before an exclusive cut-off."""
    return (cutoff - timedelta(microseconds=1)).astimezone(tz).date()


def _working(day: date, *, forward: bool) -> date:
    """Moves a weekend day to Friday (before a deadline) or Monday (after it)."""
    while day.weekday() >= 5:
        day += timedelta(days=1 if forward else -1)
    return day


def step_times(
    *,
    cutoff: datetime,
    days: list[int],
    send_time: str,
    tz: ZoneInfo,
    working_days_only: bool = False,
) -> list[tuple[int, datetime]]:
    """Each step (days before the last day; negative after it) and its UTC instant, in order."""
    hour, minute = (int(part) for part in send_time.split(":"))
    final = last_day(cutoff, tz)
    steps = []
    for step in sorted(set(days), reverse=True):
        day = final - timedelta(days=step)
        if working_days_only:
            day = _working(day, forward=step < 0)
        steps.append((step, datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)))
    return sorted(steps, key=lambda item: item[1])


LAST_STEP_WINDOW = timedelta(days=1)  # the last step, with no next one, is due this long


def latest_due(steps: list[tuple[int, datetime]], now: datetime) -> int | None:
    """The latest step whose time has come: after downtime only this one is sent."""
    due = [step for step, at in steps if at <= now]
    return due[-1] if due else None


def due_step(steps: list[tuple[int, datetime]], now: datetime, cutoff: datetime) -> int | None:
    """The step due at ``now``: its time has come and the next step's has not (the last one
    for a day), and the milestone is still open (``now`` before the cut-off). A contact
    linked in December is not sent April's reminder, nor one for a milestone it can no longer
    submit."""
    if now >= cutoff:
        return None
    for index, (step, at) in enumerate(steps):
        until = steps[index + 1][1] if index + 1 < len(steps) else at + LAST_STEP_WINDOW
        if at <= now < until and at < cutoff:
            return step
    return None
