"""Draws the board's digest chart from demo data, for the README: ``./dev chart``.

A throwaway SQLite database gets the demo registry and campaign; some enterprises register;
the chart the board's digest carries is drawn from it, in Vietnamese.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.demo import seed_demo
from bot.i18n import use_language
from bot.settings import Settings
from bot.texts.progress import milestone_chart
from storage import campaigns, registrations
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from storage.models import Enterprise, MilestoneKind, NomineeKind
from storage.progress import progress
from storage.registrations import NomineeInput

MOMENT = datetime(2026, 4, 8, 1, 30, tzinfo=UTC)  # a week before the plan's registration date


def draw(target: Path) -> Path:
    """Writes the chart to ``target`` and returns it."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        engine = make_engine(f"sqlite:///{scratch}/demo.sqlite3")
        upgrade(engine)
        with session_for(engine) as session:
            campaigns.create_campaign(
                session=session, year=2026, board_name=settings.board_name, now=MOMENT,
                tz=settings.tz,
            )  # fmt: skip
            seed_demo(session=session, now=MOMENT, tz=settings.tz, board_name=settings.board_name)
            campaign = campaigns.get_campaign(session=session)
            assert campaign is not None
            for number, enterprise in enumerate(session.exec(select(Enterprise)).all()):
                if number % 3 == 2:
                    continue  # a third still owe
                draft = registrations.open_draft(
                    session=session, campaign=campaign, enterprise=enterprise, now=MOMENT,
                    contact_id=None,
                )  # fmt: skip
                registrations.add_nominee(
                    session=session, draft=draft, regime=campaign.regime, now=MOMENT,
                    contact_id=None, row=NomineeInput(NomineeKind.INDIVIDUAL, "Lê Thị An", "LĐTT"),
                )  # fmt: skip
                registrations.submit(
                    session=session, draft=draft, campaign=campaign,
                    expected_revision=draft.revision, now=MOMENT, contact_id=None,
                )  # fmt: skip
            session.commit()
            stone = next(
                m
                for m in campaigns.milestones(session=session, campaign=campaign)
                if m.kind == MilestoneKind.REGISTRATION
            )
            with use_language("vi"):
                drawn = milestone_chart(settings, stone, progress(session, stone), MOMENT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(drawn, target)
        engine.dispose()
    return target


if __name__ == "__main__":
    print(draw(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/digest-chart.png")))
