"""Channel adapters: translate a platform's updates to Incoming and Replies back, and send the
outbox's messages. Each channel is a folder here; the composition root (bot.compose) lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from scheduler.dispatcher import Port


class StartFailed(Exception):
    """A channel could not start for a reason its operator must correct (a refused token, an
    unreachable API); the message, in the operator's language, says what to check."""


class Channel(Protocol):
    """What the composition root needs of a configured channel."""

    name: str  # as stored with chat links and outbox rows, e.g. "telegram"

    @property
    def port(self) -> Port:
        """The outbox's way to this channel: its send function and its pace."""
        ...

    async def start(self) -> None:
        """Starts receiving (polling or webhook) and sending, in the running event loop."""
        ...

    async def stop(self) -> None:
        """Stops receiving and finishes the updates in hand (their answers still go out)."""
        ...

    async def close(self) -> None:
        """Closes the connections, the port's too (the outbox has stopped by then)."""
        ...
