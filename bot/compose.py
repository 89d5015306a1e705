"""The composition root: the one place that builds the engine, the core with its flows, each
configured channel, the outbox's ports and the reminder service, and runs them together.

Adding a flow: one module under bot/flows/ exposing ``flow``, and one entry in FLOWS.
Adding a channel: one folder under bot/channels/ with a ``configure``, one entry in CHANNELS.
"""

from __future__ import annotations

import asyncio
import getpass
import importlib
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import offload
from bot.channels import Channel
from bot.core.engine import Core
from bot.core.flow import Flow
from bot.flows import (
    admin,
    board,
    broadcast,
    menu,
    onboarding,
    registration,
    registry_chat,
    report,
    results_chat,
    review,
)
from bot.settings import Settings
from bot.settle import settle
from bot.texts.outbox import Renderer
from bot.web import WebFront
from scheduler.dispatcher import Port
from scheduler.service import ReminderService
from storage import backup, files, retention
from storage.engine import WalCheckpointer, make_engine, session_for, write_session
from storage.migrate import upgrade
from storage.types import utcnow

log = logging.getLogger(__name__)
SCRATCH_AGE = timedelta(hours=1)  # a download in data/incoming older than this was cut short

FLOWS: tuple[Flow, ...] = (
    menu.flow,
    onboarding.flow,
    registration.flow,
    report.flow,
    registry_chat.flow,
    board.flow,
    review.flow,
    broadcast.flow,
    admin.flow,
    results_chat.flow,
)


class ConfigureChannel(Protocol):
    """A channel's constructor: the channel when its settings are present, else None."""

    def __call__(
        self,
        settings: Settings,
        core: Core,
        *,
        on_board_notice: Callable[[], None] | None,
        web: WebFront | None,
    ) -> Channel | None: ...


# Each module has a ``configure``; imported only by ``App.channels``, so the CLI's other commands
# do not load python-telegram-bot.
CHANNELS: tuple[str, ...] = (
    "bot.channels.telegram.application",
    "bot.channels.zalo.channel",
)


@dataclass
class App:
    """Settings, the clock and the actor's name; the engine is created and migrated on first use.

    Built once per process by the CLI; every command takes what it needs from here.
    """

    settings: Settings
    clock: Callable[[], datetime] = utcnow
    actor: str = field(default_factory=lambda: f"cli:{getpass.getuser()}")
    migrate_on_open: bool = True

    @cached_property
    def engine(self) -> Engine:
        """The database engine, migrated to head unless told not to."""
        engine = make_engine(self.settings.db_url)
        if self.migrate_on_open:
            upgrade(engine)
        return engine

    def session(self) -> Session:
        """A new session on the migrated database."""
        return session_for(self.engine)

    def write_session(self, on_wait: Callable[[], None] | None = None) -> Session:
        """A session for a command that writes beside the running service (it waits for the
        service's turn on SQLite; ``on_wait`` says so)."""
        return write_session(self.engine, on_wait=on_wait)

    def now(self) -> datetime:
        """The current instant, aware UTC; tests inject a fixed clock."""
        return self.clock()

    def core(self) -> Core:
        """The conversation engine with every flow."""
        return build_core(self.settings, self.engine, self.clock)

    def web(self) -> WebFront | None:
        """The HTTP server (webhooks, health, file links) when THIDUA_WEB_PORT is set."""
        if self.settings.web_port is None:
            return None
        return WebFront(self.settings, self.engine, self.clock)

    def channels(
        self, core: Core, on_board_notice: Callable[[], None], web: WebFront | None = None
    ) -> list[Channel]:
        """Every channel whose settings are present (none: the terminal demo runs instead);
        those receiving by webhook add their route to ``web``."""
        found: list[Channel] = []
        for module in CHANNELS:
            configure: ConfigureChannel = importlib.import_module(module).configure
            channel = configure(self.settings, core, on_board_notice=on_board_notice, web=web)
            if channel is not None:
                found.append(channel)
        return found

    def reminder_service(
        self, ports: dict[str, Port], rate: float | None = None
    ) -> ReminderService:
        """The scheduler's service, handed one port per channel, the renderer and the board."""
        if rate is not None:  # one run at another pace (``thidua reminders run-now --rate``)
            ports = {name: Port(p.send, rate, p.per_chat) for name, p in ports.items()}
        return ReminderService(
            engine=self.engine,
            ports=ports,
            render=Renderer(self.settings, self.clock),
            clock=self.clock,
            tz=self.settings.tz,
            board=self.settings.board,
            nightly=self._nightly,
            nightly_at=_hour_minute(self.settings.backup_at),
        )

    def _nightly(self, now: datetime) -> None:
        """Once a night: forms nobody confirmed swept, documents past retention removed, then
        the backup (each when configured)."""
        data = self.settings.data_dir
        swept = retention.sweep_held_forms(data / "uploads", now)
        if swept:
            log.info("deleted %s sent forms nobody confirmed", swept)
        keep = self.settings.files_keep_days
        if keep is not None:
            with self.write_session() as session:
                pruned = retention.prune_documents(
                    session, data / "files", now, keep, actor="scheduler:retention"
                )
            if pruned.files:
                log.info("removed %s documents of campaigns %s", pruned.files, pruned.years)
        folder = self.settings.backup_dir
        if folder is not None:
            made = backup.nightly(self.engine, data, folder, self.settings.backup_keep_days, now)
            log.info("nightly backup written to %s", made)

    def run_channels(self) -> None:
        """Runs every configured channel and the reminder service until SIGINT or SIGTERM."""
        # PTB 22's opt-in: durations as timedelta, without its deprecation warning on each 429.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        with WalCheckpointer(self.engine):  # no answer waits for a checkpoint (SQLite)
            asyncio.run(self._serve())

    async def _serve(self) -> None:
        swept = files.sweep_scratch(self.settings.data_dir / "incoming", self.now(), SCRATCH_AGE)
        if swept:
            log.info("deleted %s downloads a stop cut short", swept)
        core = self.core()
        service: ReminderService | None = None

        def kick() -> None:  # a board notice was queued: send it now, not within the minute
            if service is not None:
                service.kick()

        web = self.web()
        channels = self.channels(core, kick, web)
        service = self.reminder_service({channel.name: channel.port for channel in channels})
        settle()  # built, and nothing received yet: no one waits for it
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        started: list[Channel] = []
        try:
            if web is not None:  # listening before a channel announces its webhook
                await web.start()
            for channel in channels:
                await channel.start()  # one that fails closes what it opened, then raises
                started.append(channel)
            service.start()
            await stop.wait()
            log.info("stopping")
        finally:
            # Receiving stops first (the web front, then the channels); then the outbox
            # finishes what it has in flight, through ports still open; then the connections
            # close. One failing does not skip the rest.
            if web is not None:
                try:
                    await web.stop()
                except Exception:
                    log.exception("stopping the web front failed")
            await _each(started, "stop")
            try:
                await service.stop()
            except Exception:
                log.exception("stopping the reminder service failed")
            await _each(started, "close")
            offload.shutdown()  # an export still being written is cut; it was asked in vain


async def _each(channels: Sequence[Channel], step: str) -> None:
    """Stops or closes channels in reverse order of starting, each whatever the others do."""
    for channel in reversed(channels):
        try:
            await getattr(channel, step)()
        except Exception:
            log.exception("%s of the %s channel failed", step, channel.name)


def _hour_minute(value: str) -> tuple[int, int]:
    hour, _sep, minute = value.partition(":")
    return int(hour), int(minute)


def build_core(settings: Settings, engine: Engine, clock: Callable[[], datetime] = utcnow) -> Core:
    """The conversation core with every flow and the board's chat."""
    return Core(engine=engine, settings=settings, flows=FLOWS, board=settings.board, clock=clock)
