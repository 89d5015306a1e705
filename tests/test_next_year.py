"""Next year from this one: the campaign's dates and reminder plan carried a year on, the
registry kept, and an enterprise's list started from last year's rows, checked again."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from storage import campaigns, registrations, registry
from storage.engine import make_engine, session_for
from storage.models import (
    Enterprise,
    Milestone,
    MilestoneKind,
    Nominee,
    NomineeKind,
    Registration,
)
from storage.registrations import NomineeInput
from tests.conftest import NOW
from tests.factories import seed_world, submit_registration
from tests.fake_channel import FakeChat, make_core

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE


def test_next_years_campaign_takes_this_years_days_and_reminder_plan(session: Session) -> None:
    before = campaigns.create_campaign(
        session=session, year=2028, board_name="Ban Quản lý các KCN tỉnh Bắc Ninh", now=NOW,
        tz=TZ, cutoffs={MilestoneKind.MIDYEAR: None,
                        MilestoneKind.REGISTRATION: campaigns.local_midnight(
                            date(2028, 2, 29), TZ)},
    )  # fmt: skip
    for stone in campaigns.milestones(session=session, campaign=before):
        stone.reminder_days, stone.send_time = [10, 3, 1], "07:45"
        session.add(stone)
    session.flush()
    after = campaigns.create_from(session=session, year=2029, previous=2028, now=NOW, tz=TZ)
    stones = {s.kind: s for s in campaigns.milestones(session=session, campaign=after)}
    assert set(stones) == {"registration", "report"}  # no mid-year review, as before
    local = {kind: s.due_at.astimezone(TZ) for kind, s in stones.items()}
    assert (local["registration"].day, local["registration"].month) == (28, 2)  # no 29/2 in 2029
    assert (local["report"].day, local["report"].month, local["report"].year) == (5, 12, 2029)
    assert all(s.reminder_days == [10, 3, 1] and s.send_time == "07:45" for s in stones.values())
    assert after.board_name == "Ban Quản lý các KCN tỉnh Bắc Ninh"
    assert session.exec(select(Milestone).where(Milestone.campaign_id == before.id)).all()
    renamed = campaigns.create_from(
        session=session, year=2030, previous=2029, now=NOW, tz=TZ, board_name="Ban mới"
    )
    assert renamed.board_name == "Ban mới"  # a name given wins over last year's


def test_campaign_create_from_says_what_it_kept(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(["campaign", "create", "2026", "--registration-before", "10/04/2026"],
                clock=lambda: NOW) == 0  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'thidua.sqlite3'}")
    with session_for(engine) as session:
        registry.add_enterprise(session=session, tax_code="0100109106", name="Công ty A", now=NOW)
        session.commit()
    capsys.readouterr()
    code = main(["campaign", "create", "2027", "--from", "2026"], clock=lambda: NOW)
    assert code == 0
    out = capsys.readouterr().out
    assert "Giữ nguyên: 1 doanh nghiệp, 0 người liên hệ, 0 tài khoản chat đã liên kết" in out
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session, year=2027)
        assert campaign is not None
        due = {m.kind: m.due_at for m in campaigns.milestones(session=session, campaign=campaign)}
    assert due["registration"].astimezone(TZ).strftime("%d/%m/%Y") == "10/04/2027"
    assert main(["campaign", "create", "2028", "--from", "2019"], clock=lambda: NOW) == 2


def _labels(chat: FakeChat) -> list[str]:
    return [choice.label for choice in chat.last.replies[-1].choices]


def test_a_contact_starts_this_years_list_from_last_years(engine: Engine, tmp_path: Path) -> None:
    codes, enterprise_id = seed_world(engine, NOW)  # the 2026 campaign
    with session_for(engine) as session:
        old = campaigns.get_campaign(session=session, year=2026)
        enterprise = session.get(Enterprise, enterprise_id)
        assert old is not None and enterprise is not None
        submit_registration(
            session, old, enterprise,
            NomineeInput(P, "Lê Thị An", "LĐTT", position="Kế toán"),
            NomineeInput(P, "Trần Văn Đức", "CSTĐCS", initiative="Sáng kiến A"),
            NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS", award="BK tỉnh"),
            now=NOW,
        )  # fmt: skip
        old_list = registrations.latest_submitted(session=session, campaign=old,
                                                  enterprise=enterprise)  # fmt: skip
        assert old_list is not None
        session.add(
            Nominee(
                registration_id=old_list.id or 0, kind=P, name="Nguyễn ☎ Bình", title_code="ldtt"
            )
        )  # stored before today's rules refused symbols
        erased = Nominee(registration_id=old_list.id or 0, kind=P, name="XOA-1A2B3C4D",
                         title_code="ldtt")  # fmt: skip
        session.add(erased)  # a person erased on request: not copied back
        campaigns.create_from(session=session, year=2027, previous=2026, now=NOW, tz=TZ)
        session.commit()
    core = make_core(engine, tmp_path, lambda: NOW)
    contact = FakeChat(core, "c1")
    contact.command(f"/start {codes['contact']}")
    contact.press("Đồng ý")
    contact.command("/menu")
    contact.press("Đăng ký danh hiệu thi đua — hạn thứ Tư, 14/04/2027")
    assert "Bắt đầu từ danh sách năm trước" in _labels(contact)
    contact.press("Bắt đầu từ danh sách năm trước")
    said = contact.said
    assert "Đã chép 3 dòng từ danh sách năm 2026" in said
    assert "Không chép được: Nguyễn ☎ Bình" in said and "XOA-" not in said
    assert "Hiện có: 1 tập thể, 2 cá nhân." in said
    with session_for(engine) as session:
        new = campaigns.get_campaign(session=session, year=2027)
        draft = session.exec(
            select(Registration).where(Registration.campaign_id == (new.id if new else 0))
        ).one()
        rows = {(n.name, n.title_code, n.award_code, n.position) for n in
                registrations.nominees(session=session, registration=draft)}  # fmt: skip
    assert rows == {
        ("Phòng Kỹ thuật", "tt_ldxs", "bk_tinh", None), ("Lê Thị An", "ldtt", None, "Kế toán"),
        ("Trần Văn Đức", "cstdcs", None, None),
    }  # fmt: skip
    assert "Bắt đầu từ danh sách năm trước" not in _labels(contact)  # no longer empty
