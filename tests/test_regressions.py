"""Bugs a review found, kept from coming back."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from scheduler import planner
from storage import campaigns, conversations, invitations, registrations, registry
from storage.engine import begin_update, make_engine, session_for
from storage.models import Conversation, Enterprise, MilestoneKind, Nominee, Report, Role
from tests.conftest import NOW
from tests.factories import Clock, seed_world
from tests.fake_channel import FakeChat, make_core
from tests.test_registration_flow import REG, _person
from tests.test_reminders import CUTOFF, HCM, _rows, _world, local
from tests.test_report_flow import PDF, YEAR_END, _answer_all


def _linked(engine: Engine, tmp_path: Path, clock: Clock | None = None) -> FakeChat:
    codes, _ = seed_world(engine, NOW)
    core = make_core(engine, tmp_path, clock or (lambda: NOW), board_chat_id="-100")
    chat = FakeChat(core, "r1")
    chat.command(f"/start {codes['contact']}")
    chat.press("Đồng ý")
    return chat


def _figures(engine: Engine) -> dict[str, object]:
    with session_for(engine) as session:
        return dict(session.exec(select(Report)).one().figures)


def test_a_typed_1_is_a_figure_not_the_keep_button(engine: Engine, tmp_path: Path) -> None:
    chat = _linked(engine, tmp_path)
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    chat.text("1.500")
    chat.command("/cancel")
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")  # resumes at step 2, the first figure not given
    chat.command("/back")  # step 1 now offers "Giữ nguyên: 1.500"
    assert "Giữ nguyên: 1.500" in [c.label for c in chat.last.replies[-1].choices]
    chat.text("1")
    assert _figures(engine)["workers_total"] == 1


def test_language_buttons_do_not_swallow_typed_numbers(engine: Engine, tmp_path: Path) -> None:
    chat = _linked(engine, tmp_path)
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    chat.command("/lang")
    chat.press("Tiếng Việt")
    chat.text("2")
    assert _figures(engine)["workers_total"] == 2


def test_an_edit_overtaken_by_a_submission_is_not_reported_as_saved(
    engine: Engine, tmp_path: Path
) -> None:
    first = _linked(engine, tmp_path)
    with session_for(engine) as session:
        enterprise = session.exec(select(Enterprise)).one()
        code = invitations.create_invitation(
            session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
        ).code
        session.commit()
    second = FakeChat(first.core, "c2", user_name="Trần Văn Bình")
    second.command(f"/start {code}")
    second.press("Đồng ý")
    first.press(REG)
    first.press("Bước 2/3")
    _person(first, "Lê Thị An", "Lao động tiên tiến")
    first.press("Sửa thông tin một người")
    first.text("1")
    second.press(REG)
    second.press("Bước 3/3")
    second.press("Xác nhận và nộp")
    first.text("Lê Thị Anh")
    first.press("Bỏ qua")
    first.press("Lao động tiên tiến")
    first.press("Không đề nghị")
    assert "vừa được người liên hệ khác sửa hoặc nộp" in first.said
    assert "Đã sửa" not in first.said
    with session_for(engine) as session:
        assert {n.name for n in session.exec(select(Nominee))} == {"Lê Thị An"}


def test_a_report_closed_on_the_review_step_leaves_a_working_menu(
    engine: Engine, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    chat = _linked(engine, tmp_path, clock)
    chat.press(YEAR_END)
    chat.press("Nhập số liệu")
    _answer_all(chat)
    chat.send_file(PDF, "bc.pdf")
    chat.press("Chuyển sang xem lại")
    clock.now = NOW + timedelta(days=400)
    chat.press("Xác nhận và nộp")
    assert "đã kết thúc lúc" in chat.said
    with session_for(engine) as session:
        assert session.exec(select(Conversation)).one().step == ""
    chat.press("Hướng dẫn")
    assert "/menu" in chat.said


def test_an_extension_after_reminders_starts_a_fresh_series(session: Session) -> None:
    _world(session)
    for day in range(1, 18):  # every day up to 17/04: the series ends with "3 days late"
        planner.plan(session=session, now=local(day, hour=10), tz=HCM)
    campaign = campaigns.get_campaign(session=session)
    enterprise = registry.get_enterprise(session=session, tax_code="0100109106")
    assert campaign is not None and enterprise is not None
    registrations.extend(
        session=session, campaign=campaign, enterprise=enterprise,
        kind=MilestoneKind.REGISTRATION, until=CUTOFF + timedelta(days=14), granted_by="t",
        now=local(17, hour=11),
    )  # fmt: skip
    before = len(_rows(session))
    for day in range(18, 30):
        planner.plan(session=session, now=local(day, hour=10), tz=HCM)
    steps = {r.step for r in _rows(session)[before:] if r.enterprise_id == enterprise.id}
    assert {7, 3, 1, 0} <= steps


def test_an_update_that_waited_for_the_chat_sees_the_link_made_meanwhile(engine: Engine) -> None:
    """PostgreSQL: a read that waits for a row lock sees joined rows as they were before."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    with session_for(engine) as session:
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="A", now=NOW
        )
        issued = invitations.create_invitation(
            session=session, role=Role.CONTACT, created_by="t", now=NOW, enterprise=enterprise
        )
        conversations.open_chat(conn=session.connection(), channel="telegram", chat_id="9", now=NOW)
        session.commit()
    assert issued.invitation.id is not None
    seen: dict[str, object] = {}
    backends: queue.Queue[int] = queue.Queue()

    def second_update() -> None:
        with session_for(engine) as second:
            backends.put(_backend_pid(second.connection()))
            seen["chat"] = conversations.open_chat(
                conn=second.connection(), channel="telegram", chat_id="9", now=NOW
            )

    waiting = threading.Thread(target=second_update)
    with session_for(engine) as first:  # closed, and its lock let go, even when a check fails
        state, person = conversations.open_chat(
            conn=first.connection(), channel="telegram", chat_id="9", now=NOW
        )
        assert person is None
        waiting.start()
        blockers = _wait_until_waiting_for_a_lock(engine, backends.get(timeout=10))
        assert _backend_pid(first.connection()) in blockers  # the chat's row, held by the first
        linked = invitations.redeem(
            conn=first.connection(), invitation_id=issued.invitation.id, name="An",
            channel="telegram", chat_id="9", now=NOW,
        )  # fmt: skip
        state.step = "after-link"
        conversations.save_chat(conn=first.connection(), state=state)
        first.commit()
    waiting.join(10)
    later_state, later_person = seen["chat"]  # type: ignore[misc]
    assert later_state.step == "after-link" and later_person == linked


def _backend_pid(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _wait_until_waiting_for_a_lock(engine: Engine, pid: int, timeout: float = 10) -> list[int]:
    """Polls PostgreSQL until backend ``pid`` waits for a lock; returns who holds it."""
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                text(
                    "SELECT wait_event_type, pg_blocking_pids(pid) FROM pg_stat_activity"
                    " WHERE pid = :pid"
                ),
                {"pid": pid},
            ).first()
            watcher.rollback()  # pg_stat_activity is read once per transaction
            if row is not None and row[0] == "Lock":
                return list(row[1])
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock within {timeout} s")


@contextmanager
def refusing(engine: Engine, table: str, event: str = "INSERT") -> Iterator[None]:
    """A real trigger that makes the database refuse every ``event`` on ``table``, meanwhile."""
    name = f"test_refuse_{event.lower()}_{table}"
    if engine.dialect.name == "sqlite":
        create = [
            f'CREATE TRIGGER {name} BEFORE {event} ON "{table}"'
            f" BEGIN SELECT RAISE(ABORT, '{name}'); END"
        ]
        drop = [f"DROP TRIGGER {name}"]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN RAISE EXCEPTION '{name}'; END $$",
            f'CREATE TRIGGER {name} BEFORE {event} ON "{table}"'
            f" FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
        drop = [f'DROP TRIGGER {name} ON "{table}"', f"DROP FUNCTION {name}()"]
    with engine.begin() as conn:
        for statement in create:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.exec_driver_sql(statement)


@pytest.fixture
def impatient(engine: Engine) -> Iterator[Engine]:
    """The same database through the production engine, giving up on a lock after ~0.5 s."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        url = url.update_query_dict({"options": "-c lock_timeout=500"})
    quick = make_engine(url.render_as_string(hide_password=False))
    if engine.dialect.name == "sqlite":  # runs after make_engine's pragmas (30 s busy timeout)
        sa_event.listen(quick, "connect", _short_busy_timeout)
    yield quick
    quick.dispose()


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=500")


def _unreachable(engine: Engine, tmp_path: Path) -> Engine:
    """An engine of the same kind whose database cannot be reached at all."""
    if engine.dialect.name == "sqlite":
        gone = tmp_path / "gone"
        unreachable = make_engine(f"sqlite:///{gone / 'db.sqlite3'}")  # makes the directory
        gone.rmdir()
        return unreachable
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return make_engine(engine.url.set(host="127.0.0.1", port=port).render_as_string(False))


def test_a_step_failing_after_an_import_leaves_no_imported_rows(
    engine: Engine, tmp_path: Path
) -> None:
    """SQLite: the import's SAVEPOINT was the outermost transaction, and its RELEASE a commit."""
    from tests.factories import registry_rows, write_xlsx

    codes, _ = seed_world(engine, NOW)
    admin = FakeChat(make_core(engine, tmp_path, lambda: NOW), "a")
    admin.command(f"/start {codes['admin']}")
    admin.press("Đồng ý")
    admin.command("/import")
    with session_for(engine) as session:
        before = len(session.exec(select(Enterprise)).all())
    sheet = write_xlsx(tmp_path / "up.xlsx", registry_rows(3, zones=("KCN Quế Võ",)))
    admin.send_file(sheet.read_bytes(), "up.xlsx")  # the preview
    with refusing(engine, "audit_event"):  # the audit of the import, written after its rows
        admin.press("Đồng ý nhập")
    assert "Dữ liệu đã lưu trước đó không bị mất" in admin.said
    with session_for(engine) as session:
        assert len(session.exec(select(Enterprise)).all()) == before


def test_a_submission_whose_board_notice_fails_is_not_submitted(
    engine: Engine, tmp_path: Path
) -> None:
    """The same on a registration: stamped in a savepoint, then the outbox refused the notice."""
    from storage.models import Delivery, Registration, SubmissionStatus

    chat = _linked(engine, tmp_path)
    chat.press(REG)
    chat.press("Bước 1/3")
    chat.press("Thêm tập thể")
    chat.press("Công ty TNHH Hoà Bình")
    chat.press("Tập thể lao động xuất sắc")
    chat.press("Bằng khen của Chủ tịch")
    chat.press("Bỏ qua, báo Ban Quản lý sau")  # the basis, asked for a BK tỉnh
    chat.press("Tiếp tục: Bước 2/3")
    chat.press("Tiếp tục: Bước 3/3")
    with refusing(engine, "delivery"):
        chat.press("Xác nhận và nộp")
    assert "DK-2026" not in chat.said and "không bị mất" in chat.said
    with session_for(engine) as session:
        submitted = Registration.status == SubmissionStatus.SUBMITTED
        assert not session.exec(select(Registration).where(submitted)).all()
        assert not session.exec(select(Delivery).where(Delivery.kind == "notice")).all()


def test_a_refused_save_of_the_chat_is_answered_with_an_apology(
    engine: Engine, impatient: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Was: an error saving the chat's state escaped the core, and the person heard nothing.

    PostgreSQL: another transaction holds the table in SHARE mode, which lets the chat be read and
    row-locked but not updated. SQLite: the core holds the write lock from its first statement, so
    no other connection can lock it out of the save; a trigger refuses the update instead.
    """
    chat = FakeChat(make_core(impatient, tmp_path, lambda: NOW), "s")
    chat.command("/help")
    assert "/menu" in chat.said  # the chat's row exists; the next update only reads and saves it
    with ExitStack() as fault:
        if engine.dialect.name == "postgresql":
            holder = fault.enter_context(engine.connect())
            holder.exec_driver_sql("LOCK TABLE conversation IN SHARE MODE")
        else:
            fault.enter_context(refusing(engine, "conversation", "UPDATE"))
        chat.command("/help")
    assert "Dữ liệu đã lưu trước đó không bị mất" in chat.said
    assert [r.getMessage() for r in caplog.records if r.name == "bot.core.engine"] == [
        "step '' failed on command input"  # the save, not the opening, was refused
    ]


@pytest.mark.parametrize("fault", ["locked", "unreachable"])
def test_a_chat_that_cannot_be_opened_is_answered_with_an_apology(
    engine: Engine, impatient: Engine, tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Locked: another update of the same chat holds it (row lock; SQLite's write lock)."""
    with ExitStack() as stack:
        if fault == "locked":
            core_engine = impatient
            with engine.begin() as earlier:  # the chat exists: the other update locks its row
                conversations.open_chat(conn=earlier, channel="fake", chat_id="s", now=NOW)
            other = stack.enter_context(engine.connect())
            begin_update(other)
            conversations.open_chat(conn=other, channel="fake", chat_id="s", now=NOW)
        else:
            core_engine = _unreachable(engine, tmp_path)
            stack.callback(core_engine.dispose)
        chat = FakeChat(make_core(core_engine, tmp_path, lambda: NOW), "s")
        chat.command("/help")
    assert "Dữ liệu đã lưu trước đó không bị mất" in chat.said
    said = "could not open the chat" if fault == "locked" else "no database connection for"
    assert f"{said} fake:s" in caplog.text
    assert chat.last.handled is False  # a channel with an inbox keeps it, to handle it again


def test_a_delivery_whose_chat_never_opens_is_let_go_after_a_few_attempts(
    engine: Engine, impatient: Engine, tmp_path: Path
) -> None:
    """Was: apologised for at every look-back, and its chat held behind it for ever."""
    from bot.core.engine import MAX_ATTEMPTS
    from bot.core.types import Incoming, Kind
    from storage import inbox

    with ExitStack() as stack:
        if engine.dialect.name == "sqlite":  # the chat's row cannot be written
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "CREATE TRIGGER broken BEFORE INSERT ON conversation WHEN NEW.chat_id = 's'"
                    " BEGIN SELECT RAISE(ABORT, 'broken'); END"
                )
            stack.callback(lambda: _drop_trigger(engine))
        else:  # the chat's row is locked by a transaction that never ends
            with engine.begin() as earlier:
                conversations.open_chat(conn=earlier, channel="fake", chat_id="s", now=NOW)
            other = stack.enter_context(engine.connect())
            begin_update(other)
            conversations.open_chat(conn=other, channel="fake", chat_id="s", now=NOW)
        core = make_core(impatient, tmp_path, lambda: NOW)
        first = inbox.store(engine, "fake", [("s", "1", {"text": "/help"})], NOW)["1"]
        inbox.store(engine, "fake", [("s", "2", {"text": "/menu"})], NOW)

        def decode(payload: dict[str, object]) -> Incoming:
            text = str(payload["text"])
            return Incoming("fake", "s", Kind.COMMAND, text=text, command=text[1:])

        results = [core.handle_next("fake", "s", decode) for _ in range(MAX_ATTEMPTS)]
    assert all(r is not None and r.inbox_id == first for r in results)
    handled = [r.result.handled for r in results if r is not None]
    assert handled == [False] * (MAX_ATTEMPTS - 1) + [True]  # let go at the last attempt
    said = [[reply.text for reply in r.result.replies] for r in results if r is not None]
    # kept: handled once it can be, so not to be sent again (it would be read twice); said once
    assert "không cần gửi lại" in said[0][0] and said[1:-1] == [[]] * (MAX_ATTEMPTS - 2)
    # ... until it is let go: then the person is asked to send it again
    assert "Dữ liệu đã lưu trước đó không bị mất" in said[-1][0] and "không cần" not in said[-1][0]
    with engine.connect() as conn:  # the answer kept with the row, should a crash come, too
        kept = conn.execute(text("SELECT answer FROM inbox WHERE id = :i"), {"i": first})
        answer = kept.scalar_one()
    answer = json.loads(answer) if isinstance(answer, str) else answer  # SQLite: the JSON text
    assert "Dữ liệu đã lưu trước đó không bị mất" in answer["replies"][0]["text"]
    after = core.handle_next("fake", "s", decode)  # the chat is no longer held behind it
    assert after is not None and after.inbox_id != first and after.result.handled
    assert after.result.replies[0].text.startswith("Tài khoản chat này chưa được liên kết")


def _drop_trigger(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS broken")


def test_the_chat_is_answered_after_the_server_drops_every_connection(
    engine: Engine, tmp_path: Path
) -> None:
    """A PostgreSQL restart ends every pooled connection: the next message is still answered."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server restart is PostgreSQL's; SQLite is a file in the process")
    chat = FakeChat(make_core(engine, tmp_path, lambda: NOW), "s")
    chat.command("/help")
    assert "/menu" in chat.said
    with engine.connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    chat.command("/help")
    assert "/menu" in chat.said  # a fresh connection, not the apology
