"""Reminders and digests with an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.settings import Settings
from bot.texts.outbox import Renderer
from scheduler import dispatcher, planner
from scheduler.dispatcher import Outcome, Outgoing, SendResult
from scheduler.policy import latest_due, step_times
from storage import campaigns, links, registrations, registry
from storage.engine import session_for
from storage.models import (
    ChatLink,
    Contact,
    Conversation,
    Delivery,
    DeliveryStatus,
    Milestone,
    MilestoneKind,
    NomineeKind,
    Role,
)
from storage.outbox import Target
from storage.registrations import NomineeInput
from tests.factories import ports_for

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CUTOFF = datetime(2026, 4, 14, 17, 0, tzinfo=UTC)  # before 15/04 in Hà Nội
BOARD = Target("telegram", "-100")


def local(day: int, month: int = 4, hour: int = 8, minute: int = 30) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM).astimezone(UTC)


def test_steps_fall_on_the_days_before_the_last_day_at_the_local_hour() -> None:
    steps = dict(
        (step, at)
        for step, at in step_times(
            cutoff=CUTOFF, days=[30, 14, 7, 3, 1, 0, -1, -3], send_time="08:30", tz=HCM
        )
    )
    assert steps[0] == local(14) and steps[7] == local(7) and steps[-3] == local(17)
    assert steps[30] == local(15, 3)
    assert latest_due(list(steps.items()), local(14, hour=9)) == 0
    assert latest_due(list(steps.items()), local(1, 3)) is None


def test_weekends_move_to_working_days_when_asked() -> None:
    steps = dict(
        step_times(cutoff=CUTOFF, days=[3, -4], send_time="08:30", tz=HCM, working_days_only=True)
    )
    assert steps[3] == local(10)  # Saturday 11/04 moves back to Friday 10/04
    assert steps[-4] == local(20)  # Saturday 18/04 moves on to Monday 20/04


def _world(session: Session) -> dict[str, int]:
    campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=local(1, 1), tz=HCM,
        cutoffs={MilestoneKind.MIDYEAR: None},
    )  # fmt: skip
    ids = {}
    for index, tax in enumerate(("0100109106", "0101243150")):
        enterprise = registry.add_enterprise(
            session=session, tax_code=tax, name=f"Công ty {index}", now=local(1, 1)
        )
        ids[f"e{index}"] = enterprise.id
        for person in range(2):
            contact = registry.add_contact(
                session=session, full_name=f"Người {index}{person}", now=local(1, 1),
                enterprise=enterprise, role=Role.CONTACT,
            )  # fmt: skip
            links.link_chat(
                conn=session.connection(), contact_id=contact.id, channel="telegram",
                chat_id=f"{index}{person}", now=local(1, 1),
            )  # fmt: skip
    session.commit()
    return ids  # type: ignore[return-value]


def _rows(session: Session, kind: str = "reminder") -> list[Delivery]:
    return list(session.exec(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)))


def test_planning_is_idempotent_and_only_for_those_who_owe(session: Session) -> None:
    ids = _world(session)
    planner.plan(session=session, now=local(7), tz=HCM)
    planner.plan(session=session, now=local(7, hour=9), tz=HCM)
    rows = _rows(session)
    registration = [r for r in rows if r.milestone_id and r.step == 7]
    assert len(registration) == 4 == len(rows) - 0  # 2 enterprises × 2 contacts, once
    campaign = campaigns.get_campaign(session=session)
    assert campaign is not None
    enterprise = registry.get_enterprise(session=session, tax_code="0100109106")
    assert enterprise is not None
    draft = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=local(8), contact_id=None
    )
    registrations.add_nominee(
        session=session, draft=draft, regime=campaign.regime,
        row=NomineeInput(NomineeKind.INDIVIDUAL, "An", "LĐTT"), now=local(8), contact_id=None,
    )  # fmt: skip
    registrations.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
        now=local(8), contact_id=None,
    )  # fmt: skip
    planner.plan(session=session, now=local(11), tz=HCM)
    new = [r for r in _rows(session) if r.step == 3]
    assert {r.enterprise_id for r in new} == {ids["e1"]}  # the one that submitted gets nothing


def test_after_downtime_only_the_latest_step_is_sent(session: Session) -> None:
    _world(session)
    planner.plan(session=session, now=local(14, hour=10), tz=HCM)
    assert {r.step for r in _rows(session) if r.milestone_id} == {0}  # not 30, 14, 7, 3 and 1


def test_an_extension_moves_the_reminders(session: Session) -> None:
    _world(session)
    campaign = campaigns.get_campaign(session=session)
    enterprise = registry.get_enterprise(session=session, tax_code="0100109106")
    assert campaign is not None and enterprise is not None
    registrations.extend(
        session=session, campaign=campaign, enterprise=enterprise,
        kind=MilestoneKind.REGISTRATION, until=CUTOFF + timedelta(days=7), granted_by="t",
        now=local(1),
    )  # fmt: skip
    planner.plan(session=session, now=local(14, hour=10), tz=HCM)
    steps = {(r.enterprise_id, r.step) for r in _rows(session)}
    assert steps == {
        (enterprise.id, 7),
        (registry.get_enterprise(session=session, tax_code="0101243150").id, 0),
    }  # type: ignore[union-attr]


def test_digests_in_the_last_two_weeks_and_a_closing_summary(
    session: Session, tmp_path: Path
) -> None:
    _world(session)
    planner.plan(session=session, now=local(1), tz=HCM, board=BOARD)
    planner.plan(session=session, now=local(1, hour=20), tz=HCM, board=BOARD)
    planner.plan(session=session, now=local(2, hour=8, minute=0), tz=HCM, board=BOARD)  # too early
    assert len(_rows(session, "digest")) == 1
    planner.plan(session=session, now=local(15, hour=9), tz=HCM, board=BOARD)
    assert len(_rows(session, "closing")) == 1
    renderer = Renderer(Settings(data_dir=tmp_path), lambda: local(1))
    message = renderer(session, _rows(session, "digest"))[0]
    assert message is not None and message.image is not None
    assert message.image.read_bytes().startswith(b"\x89PNG")
    assert "0/2 doanh nghiệp đã nộp" in message.text and "Công ty 0 (0100109106)" in message.text


class FakeSender:
    """A channel port that answers from a script and records what was sent."""

    def __init__(self, answers: dict[str, SendResult] | None = None) -> None:
        self.answers = answers or {}
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, chat_id: str, message: Outgoing) -> SendResult:
        result = self.answers.get(chat_id, SendResult(Outcome.SENT))
        if result.outcome == Outcome.SENT:
            self.sent.append((chat_id, message.text))
        return result


async def test_dispatch_outcomes(engine: Engine, tmp_path: Path) -> None:
    with session_for(engine) as session:
        _world(session)
        planner.plan(session=session, now=local(7), tz=HCM)
        session.commit()
    sender = FakeSender({
        "01": SendResult(Outcome.RETRY, 3.0, "flood"),
        "10": SendResult(Outcome.BLOCKED, error="Forbidden: bot was blocked by the user"),
    })  # fmt: skip
    renderer = Renderer(Settings(data_dir=tmp_path), lambda: local(7))
    stats = await dispatcher.dispatch(
        engine, ports=ports_for(sender), render=renderer, clock=lambda: local(7),
        board=BOARD,
    )  # fmt: skip
    assert (stats.sent, stats.retried, stats.blocked) == (3, 1, 1)  # 2 reminders + board notice
    assert any("đã chặn bot" in text for _, text in sender.sent)
    assert (
        "chưa nộp đăng ký danh hiệu thi đua năm 2026, còn 7 ngày — hạn thứ Ba, 14/04/2026"
        in sender.sent[0][1]
    )
    with session_for(engine) as session:
        by_chat = {
            r.chat_id: r for r in session.exec(select(Delivery).where(Delivery.kind == "reminder"))
        }
        assert by_chat["00"].status == DeliveryStatus.SENT
        assert by_chat["01"].status == DeliveryStatus.PENDING
        assert by_chat["01"].not_before == local(7) + timedelta(seconds=3)
        assert by_chat["10"].status == DeliveryStatus.UNREACHABLE
        link = session.exec(select(ChatLink).where(ChatLink.chat_id == "10")).one()
        assert not link.reachable
        assert len(session.exec(select(Delivery).where(Delivery.kind == "unreachable")).all()) == 1
    again = await dispatcher.dispatch(
        engine,
        ports=ports_for(sender),
        render=renderer,
        clock=lambda: local(7) + timedelta(seconds=2),
        board=BOARD,
    )
    assert again.sent == 0  # the flood-limited one waits for its retry_after
    later = await dispatcher.dispatch(
        engine, ports=ports_for(FakeSender()), render=renderer,
        clock=lambda: local(7, minute=35), board=BOARD,
    )  # fmt: skip
    assert later.sent == 1


async def test_a_submission_between_planning_and_sending_cancels_the_reminder(
    engine: Engine, tmp_path: Path
) -> None:
    with session_for(engine) as session:
        _world(session)
        planner.plan(session=session, now=local(7), tz=HCM)
        campaign = campaigns.get_campaign(session=session)
        enterprise = registry.get_enterprise(session=session, tax_code="0100109106")
        assert campaign is not None and enterprise is not None
        draft = registrations.open_draft(
            session=session, campaign=campaign, enterprise=enterprise, now=local(7), contact_id=None
        )
        registrations.add_nominee(
            session=session, draft=draft, regime=campaign.regime,
            row=NomineeInput(NomineeKind.INDIVIDUAL, "An", "LĐTT"), now=local(7), contact_id=None,
        )  # fmt: skip
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=local(7), contact_id=None,
        )  # fmt: skip
        session.commit()
    sender = FakeSender()
    stats = await dispatcher.dispatch(
        engine, ports=ports_for(sender),
        render=Renderer(Settings(data_dir=tmp_path), lambda: local(7)), clock=lambda: local(7),
    )  # fmt: skip
    assert stats.sent == 2 and {chat for chat, _ in sender.sent} == {"10", "11"}


def test_milestone_policy_defaults(session: Session) -> None:
    _world(session)
    milestone = session.exec(select(Milestone)).first()
    assert milestone is not None
    assert milestone.reminder_days == [30, 14, 7, 3, 1, 0, -1, -3]
    assert (milestone.send_time, milestone.working_days_only) == ("08:30", False)


@pytest.mark.parametrize("rate", [50.0])
async def test_pacing_holds_the_overall_rate(engine: Engine, tmp_path: Path, rate: float) -> None:
    import time

    pacer = dispatcher.Pacer(rate, per_chat=0)
    started = time.monotonic()
    for index in range(26):
        await pacer.wait(str(index))
    assert time.monotonic() - started >= 25 / rate * 0.95


def test_batches_hold_about_two_seconds_of_sending() -> None:
    """The next batch is rendered while this one is sent: at 25/s a late submission's window
    is about 2 s (was 500 rows, 20 s), while the fast pace keeps batches large."""
    assert dispatcher.batch_for(25) == 50
    assert dispatcher.batch_for(1) == 32
    assert dispatcher.batch_for(1000) == 500


async def test_pacing_keeps_each_chat_apart_on_a_fake_clock() -> None:
    """All queued at one instant: the rate spaces everyone, the per-chat pause spaces one chat."""
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    pacer = dispatcher.Pacer(10, per_chat=1.0, clock=lambda: 0.0, sleep=sleep)
    sent_at = []
    for chat in ["a", "a", "b", "a", "c"]:
        before = len(waited)
        await pacer.wait(chat)
        sent_at.append(waited[-1] if len(waited) > before else 0.0)
    assert sent_at == pytest.approx([0.0, 1.0, 0.2, 2.0, 0.4])


async def test_each_channel_has_its_own_sender_and_an_unknown_one_fails(
    engine: Engine, tmp_path: Path
) -> None:
    from bot.settings import Settings
    from storage import outbox

    with session_for(engine) as session:
        for index, channel in enumerate(["telegram", "zalo", "pigeon"]):
            outbox.enqueue(
                session=session, key=f"b{index}", kind="broadcast",
                target=Target(channel, f"chat-{channel}"), now=local(7),
                payload={"text": f"tin {channel}"},
            )  # fmt: skip
        session.commit()
    telegram, zalo = FakeSender(), FakeSender()
    stats = await dispatcher.dispatch(
        engine,
        ports={
            "telegram": dispatcher.Port(telegram, 1000, 0),
            "zalo": dispatcher.Port(zalo, 1000, 0),
        },
        render=Renderer(Settings(data_dir=tmp_path), lambda: local(7)),
        clock=lambda: local(7),
    )
    assert telegram.sent == [("chat-telegram", "tin telegram")]
    assert zalo.sent == [("chat-zalo", "tin zalo")]
    assert (stats.sent, stats.failed) == (2, 1)
    with session_for(engine) as session:
        failed = session.exec(select(Delivery).where(Delivery.chat_id == "chat-pigeon")).one()
        assert failed.status == DeliveryStatus.FAILED and "pigeon" in (failed.error or "")


def _queue_broadcasts(engine: Engine, targets: list[Target]) -> None:
    """One broadcast line per target, due now."""
    from storage import outbox

    with session_for(engine) as session:
        for index, target in enumerate(targets):
            outbox.enqueue(
                session=session, key=f"n{index}", kind="broadcast", target=target, now=local(7),
                payload={"text": f"{index}"},
            )  # fmt: skip
        session.commit()


async def test_a_stop_ends_the_pacing_waits_and_puts_unsent_rows_back(
    engine: Engine, tmp_path: Path
) -> None:
    """Was: each row still slept through its slot (20 rows to one chat: 19 s) after a stop."""
    import asyncio

    _queue_broadcasts(engine, [Target("telegram", "-100")] * 20)
    stop = asyncio.Event()
    sender = FakeSender()

    async def send(chat_id: str, message: Outgoing) -> SendResult:
        stop.set()  # the service is told to stop while the first message goes out
        return await sender(chat_id, message)

    loop = asyncio.get_running_loop()
    started = loop.time()
    stats = await dispatcher.dispatch(
        engine, ports={"telegram": dispatcher.Port(send, 25, 1.0)},
        render=Renderer(Settings(data_dir=tmp_path), lambda: local(7)), clock=lambda: local(7),
        stop=stop,
    )  # fmt: skip
    assert loop.time() - started < 1.0 and stats.sent == 1
    with session_for(engine) as session:
        statuses = [row.status for row in session.exec(select(Delivery))]
    assert statuses.count(DeliveryStatus.SENT) == 1
    assert statuses.count(DeliveryStatus.PENDING) == 19  # nothing left claimed


async def test_a_cancelled_run_puts_its_waiting_rows_back(engine: Engine, tmp_path: Path) -> None:
    import asyncio

    _queue_broadcasts(engine, [Target("telegram", "-100")] * 10)
    sender = FakeSender()
    dispatch = dispatcher.dispatch(
        engine, ports={"telegram": dispatcher.Port(sender, 25, 0.5)},
        render=Renderer(Settings(data_dir=tmp_path), lambda: local(7)), clock=lambda: local(7),
    )  # fmt: skip
    run = asyncio.create_task(dispatch)
    while not sender.sent:
        await asyncio.sleep(0.01)
    run.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await run
    with session_for(engine) as session:
        statuses = [row.status for row in session.exec(select(Delivery))]
    assert DeliveryStatus.CLAIMED not in statuses
    assert statuses.count(DeliveryStatus.SENT) == len(sender.sent)


async def test_a_run_that_lost_the_scheduler_lock_claims_no_more(
    engine: Engine, tmp_path: Path
) -> None:
    """Was: a run went on claiming batches after its lock was gone, beside the new holder."""
    _queue_broadcasts(engine, [Target("telegram", f"c{index}") for index in range(12)])
    sender = FakeSender()
    stats = await dispatcher.dispatch(
        engine, ports=ports_for(sender), batch=5, still_ours=lambda: False,
        render=Renderer(Settings(data_dir=tmp_path), lambda: local(7)), clock=lambda: local(7),
    )  # fmt: skip
    assert stats.sent == 5  # the batch in hand, then it stopped
    with session_for(engine) as session:
        statuses = [row.status for row in session.exec(select(Delivery))]
    assert statuses.count(DeliveryStatus.SENT) == 5
    assert statuses.count(DeliveryStatus.PENDING) == 7  # for the new holder, none left claimed


def test_a_step_is_due_only_in_its_window_and_while_the_milestone_is_open(
    session: Session,
) -> None:
    _world(session)  # registration due 14/04, no mid-year, the report 04/12
    planner.plan(session=session, now=local(16), tz=HCM)  # after the registration's cut-off
    assert _rows(session) == []  # not the "overdue" steps: it can no longer be submitted
    planner.plan(session=session, now=local(2, month=12, hour=9), tz=HCM)  # linked in December
    rows = _rows(session)
    milestone = session.get(Milestone, rows[0].milestone_id)
    assert milestone is not None and milestone.kind == MilestoneKind.REPORT
    assert {r.step for r in rows} == {3} and len(rows) == 4  # one step, once per person
    planner.plan(session=session, now=local(10, month=4, hour=9), tz=HCM)
    assert {r.step for r in _rows(session) if r.milestone_id != milestone.id} == {7}
    # 10/04 lies between the 7-day step (07/04) and the 3-day step (11/04): 7 is still due


def test_one_reminder_per_person_on_their_most_recently_active_chat(session: Session) -> None:
    _world(session)
    contact = session.exec(select(Contact).where(Contact.full_name == "Người 00")).one()
    assert contact.id is not None
    links.link_chat(
        conn=session.connection(), contact_id=contact.id, channel="zalo", chat_id="a1b2",
        now=local(1, 1),
    )  # fmt: skip
    session.add(Conversation(channel="zalo", chat_id="a1b2", updated_at=local(5)))
    session.add(Conversation(channel="telegram", chat_id="00", updated_at=local(2)))
    session.commit()
    planner.plan(session=session, now=local(7), tz=HCM)
    mine = [(r.channel, r.chat_id) for r in _rows(session) if r.contact_id == contact.id]
    assert mine == [("zalo", "a1b2")]
    session.exec(select(Conversation).where(Conversation.chat_id == "00")).one().updated_at = local(
        7, hour=8, minute=45
    )  # the person writes from Telegram now: the same step is not sent again there
    session.commit()
    planner.plan(session=session, now=local(7, hour=9), tz=HCM)
    assert [r.chat_id for r in _rows(session) if r.contact_id == contact.id] == ["a1b2"]


def test_reminder_words_say_the_year_and_the_lateness_once(
    session: Session, tmp_path: Path
) -> None:
    _world(session)
    planner.plan(session=session, now=local(2, month=12), tz=HCM)
    renderer = Renderer(Settings(data_dir=tmp_path), lambda: local(2, month=12))
    text = renderer(session, _rows(session)[:1])[0].text  # type: ignore[union-attr]
    assert "báo cáo tổng kết năm 2026" in text and "năm năm" not in text
    late = Renderer(Settings(data_dir=tmp_path), lambda: local(8, month=12))
    text = late(session, _rows(session)[:1])[0].text  # type: ignore[union-attr]
    assert "hạn nộp là thứ Sáu, 04/12/2026" in text and "quá hạn: đã quá hạn" not in text
