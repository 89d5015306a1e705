"""Campaigns, registry, invitations and UTC columns on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import audit, campaigns, conversations, invitations, links, registry
from storage.engine import session_for
from storage.models import AuditEvent, Invitation, MilestoneKind, Regime, Role
from storage.registry import RegistryError
from tests.conftest import NOW

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_instants_come_back_aware_utc(engine: Engine) -> None:
    plus7 = datetime(2026, 4, 14, 23, 59, tzinfo=timezone(timedelta(hours=7)))
    with session_for(engine) as session:
        audit.record(db=session, actor="t", action="x", now=plus7)
        session.commit()
    with session_for(engine) as session:
        event = session.exec(select(AuditEvent)).one()
    assert event.at.tzinfo is not None
    assert event.at.utcoffset() == timedelta(0)
    assert event.at == datetime(2026, 4, 14, 16, 59, tzinfo=UTC)


def test_audit_keeps_long_targets_within_their_column(session: Session) -> None:
    name = "Danh sách doanh nghiệp KCN " * 20 + ".xlsx"  # a sent file's name, 541 characters
    audit.record(db=session, actor="contact:1", action="enterprises.import", now=NOW,
                 target=name)  # fmt: skip
    session.commit()  # PostgreSQL refuses text longer than the column
    (event,) = audit.list_events(session=session)
    assert event.target is not None and len(event.target) == 200
    assert event.target.startswith("Danh sách") and event.target.endswith("…")


def test_naive_datetimes_are_refused(session: Session) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        audit.record(db=session, actor="t", action="x", now=datetime(2026, 1, 1))


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_campaign_defaults_follow_the_plan_in_hanoi_time(session: Session) -> None:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=HCM
    )
    stones = {m.kind: m.due_at for m in campaigns.milestones(session=session, campaign=campaign)}
    assert stones == {
        MilestoneKind.REGISTRATION: datetime(2026, 4, 14, 17, 0, tzinfo=UTC),
        MilestoneKind.MIDYEAR: datetime(2026, 6, 30, 17, 0, tzinfo=UTC),
        MilestoneKind.REPORT: datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
    }
    assert campaign.regime == Regime.ND152_2025


@pytest.mark.parametrize(
    ("year", "regime"),
    [(2020, Regime.ND91_2017), (2024, Regime.ND98_2023), (2025, Regime.ND152_2025)],
)  # 2025: registered under NĐ 98/2023, judged at the year's end under NĐ 152/2025
def test_regime_is_the_one_in_force_at_the_year_end_evaluation(
    session: Session, year: int, regime: Regime
) -> None:
    campaign = campaigns.create_campaign(
        session=session, year=year, board_name="Ban", now=NOW, tz=HCM
    )
    assert campaign.regime == regime


def test_campaign_overrides_and_omitted_midyear(session: Session) -> None:
    cutoff = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
    campaign = campaigns.create_campaign(
        session=session,
        year=2026,
        board_name="Ban",
        now=NOW,
        tz=HCM,
        cutoffs={MilestoneKind.REGISTRATION: cutoff, MilestoneKind.MIDYEAR: None},
        regime=Regime.ND91_2017,
    )
    stones = campaigns.milestones(session=session, campaign=campaign)
    assert [(m.kind, m.due_at) for m in stones] == [
        (MilestoneKind.REGISTRATION, cutoff),
        (MilestoneKind.REPORT, datetime(2026, 12, 4, 17, 0, tzinfo=UTC)),
    ]
    assert campaign.regime == Regime.ND91_2017


def test_bad_campaigns_are_refused(session: Session) -> None:
    campaigns.create_campaign(session=session, year=2026, board_name="Ban", now=NOW, tz=HCM)
    with pytest.raises(RegistryError) as dup:
        campaigns.create_campaign(session=session, year=2026, board_name="Ban", now=NOW, tz=HCM)
    assert dup.value.code == "campaign_exists"
    with pytest.raises(RegistryError) as order:
        campaigns.create_campaign(
            session=session,
            year=2027,
            board_name="Ban",
            now=NOW,
            tz=HCM,
            cutoffs={MilestoneKind.REPORT: datetime(2027, 3, 1, tzinfo=UTC)},
        )
    assert order.value.code == "milestones_out_of_order"
    with pytest.raises(RegistryError):
        campaigns.create_campaign(session=session, year=1999, board_name="Ban", now=NOW, tz=HCM)


def test_zones_match_by_folded_name(session: Session) -> None:
    zone = registry.add_zone(session=session, name="KCN Quế Võ")
    assert registry.add_zone(session=session, name="Khu công nghiệp Quế Võ").id == zone.id
    assert registry.find_zone(session=session, name="que vo") is not None
    with pytest.raises(RegistryError):
        registry.add_zone(session=session, name="  KCN ")


def test_enterprises_and_contacts(session: Session) -> None:
    zone = registry.add_zone(session=session, name="KCN Yên Phong")
    enterprise = registry.add_enterprise(
        session=session, tax_code="0100.109.106", name="Công ty  ABC", now=NOW, zone=zone
    )
    assert enterprise.tax_code == "0100109106"
    assert enterprise.name == "Công ty ABC"
    with pytest.raises(RegistryError) as exists:
        registry.add_enterprise(session=session, tax_code="0100109106", name="X", now=NOW)
    assert exists.value.code == "enterprise_exists"
    contact = registry.add_contact(
        session=session, full_name="Lê Thị Thuỷ", now=NOW, enterprise=enterprise, phone="0912345678"
    )
    assert contact.phone == "+84912345678"
    with pytest.raises(RegistryError) as orphan:
        registry.add_contact(session=session, full_name="Ai đó", now=NOW)
    assert orphan.value.code == "contact_needs_enterprise"
    board = registry.add_contact(session=session, full_name="Cán bộ Ban", now=NOW, role=Role.BOARD)
    assert board.enterprise_id is None
    assert [e.tax_code for e, _ in registry.list_enterprises(session=session)] == ["0100109106"]


def test_a_chat_links_to_one_contact_and_a_contact_may_have_many_chats(session: Session) -> None:
    enterprise = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    first, second = (
        registry.add_contact(session=session, full_name=name, now=NOW, enterprise=enterprise)
        for name in ("Một", "Hai")
    )
    links.link_chat(
        conn=session.connection(), contact_id=first.id, channel="telegram", chat_id="42", now=NOW
    )
    links.link_chat(
        conn=session.connection(), contact_id=first.id, channel="zalo", chat_id="z-9", now=NOW
    )
    assert links.contact_for_chat(session=session, channel="telegram", chat_id="42") == first
    links.link_chat(
        conn=session.connection(), contact_id=second.id, channel="telegram", chat_id="42", now=NOW
    )
    assert links.contact_for_chat(session=session, channel="telegram", chat_id="42") == second
    assert [link.channel for link in links.chat_links(session=session, contact=first)] == ["zalo"]
    assert links.mark_unreachable(session=session, channel="zalo", chat_id="z-9")
    assert not links.mark_unreachable(session=session, channel="zalo", chat_id="z-9")
    assert links.linked_contact_ids(session=session) == {first.id, second.id}


def test_conversations_are_created_once_per_chat(session: Session) -> None:
    one, person = conversations.open_chat(
        conn=session.connection(), channel="telegram", chat_id="7", now=NOW
    )
    assert person is None and one.step == "" and one.data == {} and one.updated_at == NOW
    one.step, one.data, one.failed_since = "onboarding.confirm", {"invitation": 3}, NOW
    conversations.save_chat(conn=session.connection(), state=one)
    session.commit()
    again, _ = conversations.open_chat(
        conn=session.connection(), channel="telegram", chat_id="7", now=NOW
    )
    assert again == one and again.failed_since == NOW  # aware UTC on SQLite too
    other, _ = conversations.open_chat(
        conn=session.connection(), channel="zalo", chat_id="7", now=NOW
    )
    assert other.id != one.id and other.step == ""


def test_a_chat_is_read_with_the_person_and_enterprise_it_is_linked_to(session: Session) -> None:
    enterprise = _enterprise(session)
    contact = registry.add_contact(session=session, full_name="An", now=NOW, enterprise=enterprise)
    assert contact.id is not None
    conversations.open_chat(conn=session.connection(), channel="telegram", chat_id="8", now=NOW)
    links.link_chat(
        conn=session.connection(), contact_id=contact.id, channel="telegram", chat_id="8", now=NOW
    )
    _state, person = conversations.open_chat(
        conn=session.connection(), channel="telegram", chat_id="8", now=NOW
    )
    assert person == conversations.Person.of(contact, enterprise)
    assert person is not None and person.tax_code == "0100109106" and person.role == Role.CONTACT


def _redeem(
    session: Session, invitation_id: int, chat_id: str, *, name: str = "X", now: datetime = NOW
) -> conversations.Person | None:
    return invitations.redeem(
        conn=session.connection(), invitation_id=invitation_id, name=name, channel="telegram",
        chat_id=chat_id, now=now,
    )  # fmt: skip


def _enterprise(session: Session):  # type: ignore[no-untyped-def]
    return registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)


def test_invitation_codes_are_random_hashed_and_single_use(session: Session) -> None:
    enterprise = _enterprise(session)
    contact = registry.add_contact(session=session, full_name="An", now=NOW, enterprise=enterprise)
    issued = invitations.create_invitation(
        session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
    )
    other = invitations.create_invitation(
        session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
    )
    assert issued.code != other.code
    bare = issued.code.replace("-", "")  # read out by phone: 12 characters, no look-alikes
    assert len(bare) == 12 and set(bare) <= set(invitations.ALPHABET) and len(issued.code) == 14
    assert len(invitations.ALPHABET) ** 12 >= 2**60  # still at least 60 random bits
    typed = " ".join(bare[i : i + 4] for i in (0, 4, 8)).lower()  # "k7mw 3qxa 9hde"
    assert invitations.check_invitation(conn=session.connection(), code=typed, now=NOW)[1]
    stored = session.exec(select(Invitation.code_hash)).all()
    assert issued.code not in stored
    assert issued.invitation.expires_at == NOW + timedelta(days=30)
    status, found = invitations.check_invitation(
        conn=session.connection(), code=issued.code, now=NOW
    )
    assert status == invitations.Redemption.OK and found is not None
    assert found.enterprise_name == "A" and found.tax_code == "0100109106"

    person = _redeem(session, found.id, "5", name="Bình")
    assert person is not None and person.enterprise_id == enterprise.id and person.id != contact.id
    assert person.full_name == "Bình" and person.role == Role.CONTACT
    again = _redeem(session, found.id, "6", name="Chi")
    assert again is None  # used: no second contact, no link for the second chat
    assert len(registry.list_contacts(session=session)) == 2
    assert links.contact_for_chat(session=session, channel="telegram", chat_id="6") is None
    linked = links.contact_for_chat(session=session, channel="telegram", chat_id="5")
    assert linked is not None and linked.id == person.id
    status, _ = invitations.check_invitation(conn=session.connection(), code=issued.code, now=NOW)
    assert status == invitations.Redemption.USED
    session.expire_all()
    assert session.get(Invitation, found.id).used_by_contact_id == person.id  # type: ignore[union-attr]
    # a code issued for a known person links that person, under the name the board gave
    named = invitations.create_invitation(
        session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise,
        contact=contact,
    )  # fmt: skip
    assert named.invitation.id is not None
    person = _redeem(session, named.invitation.id, "7", name="Tên khác")
    assert person == conversations.Person.of(contact, enterprise)
    # an expired code is refused at the moment of use, and stays unused
    late = invitations.create_invitation(
        session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise,
        valid_for=timedelta(hours=1),
    )  # fmt: skip
    assert late.invitation.id is not None
    assert _redeem(session, late.invitation.id, "8", now=NOW + timedelta(hours=1)) is None
    status, _ = invitations.check_invitation(conn=session.connection(), code=late.code, now=NOW)
    assert status == invitations.Redemption.OK


def test_invitations_expire_and_unknown_codes_are_refused(session: Session) -> None:
    enterprise = _enterprise(session)
    issued = invitations.create_invitation(
        session=session,
        role=Role.CONTACT,
        created_by="t",
        now=NOW,
        enterprise=enterprise,
        valid_for=timedelta(days=1),
    )
    later = NOW + timedelta(days=1)
    assert invitations.check_invitation(conn=session.connection(), code=issued.code, now=later)[
        0
    ] == (invitations.Redemption.EXPIRED)
    assert invitations.check_invitation(conn=session.connection(), code="nope", now=NOW)[0] == (
        invitations.Redemption.UNKNOWN
    )
    with pytest.raises(RegistryError):
        invitations.create_invitation(session=session, role=Role.CONTACT, created_by="t", now=NOW)
    admin = invitations.create_invitation(session=session, role=Role.ADMIN, created_by="t", now=NOW)
    assert admin.invitation.enterprise_id is None


def test_a_redeemed_code_names_its_own_enterprise(session: Session) -> None:
    names = {"0100109106": "A", "0101243150": "B", "0300588569": "C"}
    made = [
        registry.add_enterprise(session=session, tax_code=tax, name=name, now=NOW)
        for tax, name in names.items()
    ]
    issued = invitations.create_invitation(
        session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=made[2]
    )
    assert issued.invitation.id is not None and issued.invitation.id != made[2].id
    person = _redeem(session, issued.invitation.id, "1")
    assert person is not None and person.enterprise_id == made[2].id
    assert (person.enterprise_name, person.tax_code) == ("C", "0300588569")


def test_a_chat_state_outlives_a_rollback_of_its_first_transaction(session: Session) -> None:
    state, _ = conversations.open_chat(
        conn=session.connection(), channel="telegram", chat_id="5", now=NOW
    )
    session.rollback()  # e.g. a step undid its own work, and the new chat's row went with it
    state.step, state.recent_keys = "somewhere", ["12", "ab"]
    conversations.save_chat(conn=session.connection(), state=state)
    session.commit()
    again, _ = conversations.open_chat(
        conn=session.connection(), channel="telegram", chat_id="5", now=NOW
    )
    assert (again.id, again.step, again.recent_keys) == (state.id, "somewhere", ["12", "ab"])


def test_the_service_checkpoints_sqlite_off_the_answer_path(engine: Engine) -> None:
    from storage.engine import WalCheckpointer

    def autocheckpoint() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())

    with WalCheckpointer(engine, every=0.02) as checkpoints:
        for index in range(20):
            with session_for(engine) as session:
                registry.add_zone(session=session, name=f"KCN {index}")
                session.commit()
        if engine.dialect.name != "sqlite":
            assert checkpoints.runs == 0  # PostgreSQL: nothing to do
            return
        assert autocheckpoint() == 0  # no commit copies the log itself
        deadline = time.monotonic() + 5
        while checkpoints.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpoints.runs >= 2
    assert checkpoints.last is not None and checkpoints.last[1] == 0  # log emptied at the end
    assert autocheckpoint() == 1000  # SQLite's default again
    database = Path(str(engine.url.database))
    assert Path(f"{database}-wal").stat().st_size == 0


def test_the_inbox_stores_once_and_tells_what_a_crash_left(engine: Engine) -> None:
    from datetime import timedelta

    from storage import inbox

    first = inbox.store(engine, "telegram", [("1", "10", {"n": 10}), ("2", "11", {"n": 11})], NOW)
    again = inbox.store(engine, "telegram", [("1", "10", {"n": 10}), ("1", "12", {"n": 12})], NOW)
    assert set(first) == {"10", "11"} and set(again) == {"12"}  # a repeat is not new
    assert [p["n"] for _id, p in inbox.undone(engine, "telegram")] == [10, 11, 12]
    with engine.begin() as conn:
        inbox.mark_done(conn, first["10"], {"replies": [{"text": "x"}]}, NOW)
    assert [p["n"] for _id, p in inbox.undone(engine, "telegram")] == [11, 12]
    kept = {"replies": [{"text": "x"}]}
    assert inbox.unanswered(engine, "telegram") == [(first["10"], "1", kept)]
    inbox.mark_answered(engine, [first["10"], first["11"]], NOW)  # 11 skipped: finished too
    assert inbox.unanswered(engine, "telegram") == []
    assert [p["n"] for _id, p in inbox.undone(engine, "telegram")] == [12]
    assert inbox.undone(engine, "zalo") == []  # per channel
    assert inbox.prune(engine, NOW + timedelta(days=8)) == 2  # answered a week ago: gone


def test_a_delivery_is_taken_in_order_done_once_and_its_answer_claimed_once(
    engine: Engine,
) -> None:
    """The chat's oldest delivery first; a second "done" (a worker whose step failed while
    another took its turn) changes nothing; a kept answer is claimed by one worker only, and
    again once its claim is stale; this process's answers in hand are skipped."""
    from datetime import timedelta

    from storage import inbox

    items = [("1", "20", {"n": 20}), ("2", "21", {"n": 21}), ("1", "22", {"n": 22})]
    ids = inbox.store(engine, "telegram", items, NOW)
    with engine.begin() as conn:
        inbox.lock_chat(conn, "telegram", "1")
        assert inbox.oldest_undone(conn, "telegram", "1") == (ids["20"], {"n": 20}, True)
        assert inbox.mark_done(conn, ids["20"], {"replies": [{"text": "a"}]}, NOW)
        assert not inbox.mark_done(conn, ids["20"], {"replies": []}, NOW)  # done already
        assert inbox.oldest_undone(conn, "telegram", "1") == (ids["22"], {"n": 22}, False)
        assert inbox.mark_done(conn, ids["22"], {"replies": [{"text": "b"}]}, NOW)
    later = NOW + timedelta(minutes=3)
    skip = {ids["22"]}  # going out in this process now
    claimed = inbox.claim_unanswered(engine, "telegram", later, later, skip)
    assert claimed == [(ids["20"], "1", {"replies": [{"text": "a"}]})]  # kept answer intact
    assert inbox.claim_unanswered(engine, "telegram", later, later, skip) == []  # claimed
    stale = later + inbox.CLAIM_LEASE + timedelta(seconds=1)
    assert [r[0] for r in inbox.claim_unanswered(engine, "telegram", stale, stale)] == [
        ids["20"], ids["22"],
    ]  # fmt: skip
    inbox.mark_answered(engine, [ids["20"], ids["22"]], stale)
    much_later = stale + inbox.CLAIM_LEASE * 2
    assert inbox.claim_unanswered(engine, "telegram", much_later, much_later) == []  # sent


def test_every_new_code_can_be_typed_alone_with_spaces() -> None:
    """A code of letters only, typed with spaces, reads like a name ("THUY DUNG BANG ..."):
    each code has a digit, so it is always told apart (1 code in 32 had none before)."""
    for _ in range(2_000):
        code = invitations.new_code()
        assert any(ch.isdigit() for ch in code), code
        assert invitations.looks_like_code(code.replace("-", " ").lower()), code
        assert invitations.looks_like_code(code.replace("-", "")), code
    assert not invitations.looks_like_code("THUY DUNG BANG")
