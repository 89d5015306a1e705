"""What every command needs: settings, one engine, the clock and the actor's name."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.engine import Core
from bot.settings import Settings
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from storage.types import utcnow


@dataclass
class AppContext:
    """Built once by main(); the engine is created and migrated on first use."""

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

    def core(self) -> Core:
        """The conversation engine with every flow registered."""
        import bot.flows  # noqa: F401  (registers the steps and commands)

        return Core(engine=self.engine, settings=self.settings, clock=self.clock)

    def now(self) -> datetime:
        """The current instant, aware UTC; tests inject a fixed clock."""
        return self.clock()
