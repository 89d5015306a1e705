"""A database with many enterprises owing a reminder right now (real clock), for subprocess runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

from bot.demo import synthetic_tax_codes
from storage import campaigns
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from storage.models import ChatLink, Contact, Enterprise, Milestone, MilestoneKind, Role
from storage.text import search_key
from storage.types import utcnow

FIRST_CHAT = 900_000


def build(data_dir: Path, enterprises: int) -> None:
    """Each enterprise has one linked contact; the registration reminder "3 days left" is due."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    now = utcnow()
    engine = make_engine(f"sqlite:///{data_dir / 'thidua.sqlite3'}")
    upgrade(engine)
    today = now.astimezone(tz).date()
    with session_for(engine) as session:
        campaign = campaigns.create_campaign(
            session=session, year=today.year, board_name="Ban", now=now, tz=tz,
            cutoffs={
                MilestoneKind.REGISTRATION: campaigns.local_midnight(today + timedelta(days=4), tz),
                MilestoneKind.MIDYEAR: None,
                MilestoneKind.REPORT: campaigns.local_midnight(today + timedelta(days=200), tz),
            },
        )  # fmt: skip
        for milestone in session.exec(
            select(Milestone).where(Milestone.campaign_id == campaign.id)
        ):
            milestone.reminder_days, milestone.send_time = [3], "00:00"
        codes = synthetic_tax_codes(enterprises, prefix="28")
        session.execute(
            insert(Enterprise),
            [{"tax_code": c, "name": f"Công ty {i}", "name_key": search_key(f"Công ty {i}"),
              "active": True, "created_at": now, "updated_at": now} for i, c in enumerate(codes)],
        )  # fmt: skip
        ids = session.exec(select(Enterprise.id).order_by(Enterprise.id)).all()
        session.execute(
            insert(Contact),
            [{"enterprise_id": e, "full_name": f"Người {e}", "role": Role.CONTACT.value,
              "created_at": now} for e in ids],
        )  # fmt: skip
        contacts = session.exec(select(Contact.id).order_by(Contact.id)).all()
        session.execute(
            insert(ChatLink),
            [{"contact_id": c, "channel": "telegram", "chat_id": str(FIRST_CHAT + n),
              "reachable": True, "linked_at": now} for n, c in enumerate(contacts)],
        )  # fmt: skip
        session.commit()
    engine.dispose()
