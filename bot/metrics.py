"""What an operator watches, in Prometheus' text format at the web front's /metrics.

Counters and the latency histogram are this process's own (with several workers, scrape each);
the depths of the inbox and the outbox are read from the database at each scrape, so every
worker reports the same, deployment-wide figures.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _exposition
from sqlalchemy import Table, case, func, select
from sqlalchemy.engine import Engine

from storage.models import Delivery, DeliveryStatus, Inbox

INBOX: Table = Inbox.__table__  # type: ignore[attr-defined]
DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]

UPDATES = Counter(
    "thidua_updates",
    "Deliveries from people handled, by outcome (answered, apology: the step failed or the"
    " database was away, skipped: a repeat).",
    ["channel", "outcome"],
)
ANSWER_SECONDS = Histogram(
    "thidua_answer_seconds",
    "From a chat's delivery arriving to its answer sent.",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
ERRORS = Counter(
    "thidua_errors", "Steps that failed (answered with the apology), by channel.", ["channel"]
)


def exposition(engine: Engine, now: datetime) -> bytes:
    """Every metric of this process, then the database's depths."""
    depths = CollectorRegistry()
    inbox = Gauge("thidua_inbox_undone", "Deliveries stored, not yet handled.", ["channel"],
                  registry=depths)  # fmt: skip
    pending = Gauge("thidua_outbox_pending", "Outbox messages waiting to be sent.", ["channel"],
                    registry=depths)  # fmt: skip
    due = Gauge("thidua_outbox_due", "Of those, the ones due now (reminders late if it grows).",
                ["channel"], registry=depths)  # fmt: skip
    waiting = (DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value)
    stored, owed = INBOX.c, DELIVERY.c
    with engine.connect() as conn:
        for channel, count in conn.execute(
            select(stored.channel, func.count())
            .where(stored.done_at.is_(None))
            .group_by(stored.channel)
        ):
            inbox.labels(channel).set(count)
        for channel, count, late in conn.execute(
            select(
                owed.channel,
                func.count(),
                func.sum(case((owed.not_before <= now, 1), else_=0)),
            )
            .where(owed.status.in_(waiting))
            .group_by(owed.channel)
        ):
            pending.labels(channel).set(count)
            due.labels(channel).set(late or 0)
    return _exposition(REGISTRY) + _exposition(depths)
