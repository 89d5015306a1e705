"""The outbox's counters for Prometheus (exposed by the web front's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

OUTBOX_MESSAGES = Counter(
    "thidua_outbox_messages",
    "Outbox messages (reminders, digests, notices) by how their sending ended.",
    ["channel", "outcome"],  # sent, retried, blocked, failed
)
