"""The real PTB Application over HTTP against the fake Bot API: polling, webhook, files."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.channels.telegram.application import TelegramChannel
from bot.channels.telegram.translate import split_text, stats
from bot.compose import build_core
from bot.settings import Settings
from bot.web import WebFront
from storage import links, tabular
from storage.engine import make_engine, session_for
from storage.migrate import upgrade
from storage.models import ChatLink
from tests.conftest import NOW
from tests.factories import free_port, pdf_bytes, ports_for, registry_rows, seed_world, write_xlsx
from tests.fake_telegram import Call, FakeTelegram

CHAT = 5001
BOARD_CHAT = -100200


@pytest.fixture
def fake() -> Any:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'tg.sqlite3'}")
    upgrade(engine)
    return engine


def _settings(fake: FakeTelegram, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        telegram_token=fake.token,  # type: ignore[arg-type]
        telegram_api_url=fake.base_url,
        telegram_file_url=fake.file_url,
        board_chat_id=str(BOARD_CHAT),
    )


def _codes(engine: Engine) -> dict[str, str]:
    return seed_world(engine, NOW)[0]


@pytest.fixture
async def polling(fake: FakeTelegram, db: Engine, tmp_path: Path) -> AsyncIterator[Any]:
    settings = _settings(fake, tmp_path).model_copy(update={"poll_timeout": 1})
    channel = TelegramChannel(settings, build_core(settings, db, lambda: NOW))
    await channel.start()  # as the service starts it: menus published, then long polling
    try:
        yield channel.application
    finally:
        await channel.stop()
        await channel.close()


def _text(call: Call) -> str:
    return str(call.params.get("text", ""))


def _buttons(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _after(fake: FakeTelegram, update: dict[str, Any], method: str, match: Any) -> Call:
    """Pushes an update and waits for the next call (after those already seen) ``match`` accepts."""
    seen = len([c for c in fake.calls_to(method) if match(c)])
    fake.push_update(update)
    return (await fake.await_for(method, match, count=seen + 1))[-1]


async def _say(fake: FakeTelegram, text: str, expect: str, chat: int = CHAT, **kw: Any) -> Call:
    def match(c: Call) -> bool:
        return expect in _text(c) and c.params["chat_id"] == chat

    seen = len([c for c in fake.calls_to("sendMessage") if match(c)])
    fake.push_update(fake.message_update(chat, text, **kw))
    return (await fake.await_for("sendMessage", match, count=seen + 1))[-1]


async def _press(fake: FakeTelegram, ask: Call, label: str, expect: str, chat: int = CHAT) -> Call:
    def match(c: Call) -> bool:
        return expect in _text(c) and c.params["chat_id"] == chat

    seen = len([c for c in fake.calls_to("sendMessage") if match(c)])
    message_id = ask.response["result"]["message_id"]
    fake.push_update(fake.callback_update(chat, _buttons(ask)[label], message_id=message_id))
    return (await fake.await_for("sendMessage", match, count=seen + 1))[-1]


async def _flush_outbox(fake: FakeTelegram, db: Engine, tmp_path: Path) -> None:
    """Sends what the outbox holds (the bot process's scheduler does this every minute)."""
    from bot.channels.telegram.sender import TelegramSender
    from bot.texts.outbox import Renderer
    from scheduler import dispatcher

    settings = _settings(fake, tmp_path)
    async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
        await dispatcher.dispatch(
            db, ports=ports_for(sender), render=Renderer(settings, lambda: NOW), clock=lambda: NOW,
                    )  # fmt: skip


async def _onboard(fake: FakeTelegram, code: str, chat: int = CHAT) -> Call:
    ask = await _say(fake, f"/start {code}", "sẽ được liên kết", chat=chat)
    return await _press(fake, ask, "Đồng ý, liên kết", "Danh mục chính", chat=chat)


async def test_onboarding_over_polling(fake: FakeTelegram, db: Engine, polling: Any) -> None:
    codes = _codes(db)
    default_menus = await fake.await_for("setMyCommands", count=2)
    assert {c.params.get("language_code") for c in default_menus} == {None, "en"}
    ask = await _say(fake, f"/start {codes['contact']}", "sẽ được liên kết")
    assert "Công ty TNHH Hoà Bình (mã số thuế 0100109106)" in _text(ask)
    assert list(_buttons(ask)) == ["Đồng ý, liên kết", "Không, huỷ"]
    assert all(len(data.encode()) <= 64 for data in _buttons(ask).values())
    menu = await _press(fake, ask, "Đồng ý, liên kết", "Danh mục chính")
    assert "Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026" in _buttons(menu)
    await fake.await_for("answerCallbackQuery")
    edited = await fake.await_for("editMessageText")
    assert _text(edited[-1]).endswith("→ Đồng ý, liên kết")
    scoped = await fake.await_for(
        "setMyCommands", lambda c: (c.params.get("scope") or {}).get("type") == "chat", count=2
    )
    names = [cmd["command"] for cmd in scoped[-1].params["commands"]]
    assert "import" not in names and "menu" in names
    # until /lang, the menu follows the app's language, as the replies do
    assert "Danh mục chính" in fake.menu_shown(CHAT, "vi")
    assert "Main menu" in fake.menu_shown(CHAT, "en")
    await _say(fake, "/lang en", "Language: English")
    await fake.await_for("deleteMyCommands")
    assert "Main menu" in fake.menu_shown(CHAT, "vi")  # the chosen language wins
    await _say(fake, "/lang vi", "Ngôn ngữ: tiếng Việt")
    await fake.await_for("deleteMyCommands", count=2)
    assert fake.menu_shown(CHAT, "en") == fake.menu_shown(CHAT, "vi")
    assert "Danh mục chính" in fake.menu_shown(CHAT, "en")
    with session_for(db) as session:
        contact = links.contact_for_chat(session=session, channel="telegram", chat_id=str(CHAT))
        assert contact is not None and contact.full_name == "An"
    assert fake.server_errors == []


async def test_bad_input_over_telegram_never_stops_the_loop(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    codes = _codes(db)
    await _say(fake, "/nonsense", "Không có lệnh /nonsense")
    for update in (fake.sticker_update(CHAT), fake.photo_update(CHAT), fake.voice_update(CHAT)):
        await _after(fake, update, "sendMessage", lambda c: "chỉ đọc được tin nhắn chữ" in _text(c))
    await _say(fake, "ư" * 4096, "chưa được liên kết")
    skipped = stats["group_message"] + stats["edited_message"]
    fake.push_update(fake.group_message_update(-100123, "/start"))
    fake.push_update(fake.edited_message_update(CHAT, 1, "sửa"))
    await _say(fake, "/help", "/menu")  # later updates are still answered
    assert stats["group_message"] + stats["edited_message"] == skipped + 2
    assert not [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == -100123]
    stale = await _say(fake, f"/start {codes['contact']}", "sẽ được liên kết")
    await _say(fake, "/cancel", "Đã dừng")
    await _press(fake, stale, "Đồng ý, liên kết", "tin nhắn trước")
    fake.block_chat(CHAT)
    fake.push_update(fake.message_update(CHAT, "/start"))
    await fake.await_for("sendMessage", lambda c: c.status == 403)
    await _say(fake, "/start", "Chào mừng", chat=CHAT + 1)  # the loop goes on
    assert fake.server_errors == []


async def _link_once_unreachable(db: Engine, seconds: float = 5.0) -> ChatLink:
    """The only chat link, once marked unreachable (or as it is after ``seconds``)."""
    for _ in range(int(seconds / 0.05)):
        with session_for(db) as session:
            link = session.exec(select(ChatLink)).one()
        if not link.reachable:
            break
        await asyncio.sleep(0.05)
    return link


async def test_blocked_contacts_are_marked_unreachable(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    codes = _codes(db)
    await _onboard(fake, codes["contact"])
    fake.block_chat(CHAT)
    blocked = stats["blocked"]
    fake.push_update(fake.message_update(CHAT, "/menu"))
    await fake.await_for("sendMessage", lambda c: c.status == 403)
    assert not (await _link_once_unreachable(db)).reachable
    assert stats["blocked"] == blocked + 1


async def test_a_contact_who_blocks_the_bot_is_marked_unreachable_from_the_update_alone(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """Telegram says so with a my_chat_member update (status "kicked"): read from its JSON, the
    link is marked unreachable at once, and nothing is sent to the chat."""
    codes = _codes(db)
    await _onboard(fake, codes["contact"])
    sent = len(fake.calls_to("sendMessage"))
    user = {"id": CHAT, "is_bot": False, "first_name": "An"}
    member = {"user": fake.bot_user, "status": "member"}
    fake.push_update({
        "my_chat_member": {
            "chat": {"id": CHAT, "type": "private", "first_name": "An"},
            "from": user,
            "date": 1,
            "old_chat_member": member,
            "new_chat_member": {**member, "status": "kicked", "until_date": 0},
        }
    })  # fmt: skip
    assert not (await _link_once_unreachable(db)).reachable
    await _say(fake, "/help", "/menu", chat=CHAT + 1)  # later updates go on
    assert len([c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == CHAT]) == len(
        [c for c in fake.calls_to("sendMessage")[:sent] if c.params["chat_id"] == CHAT]
    )


async def test_a_button_under_a_group_message_is_skipped(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    skipped = stats["callback_outside_private_chat"]
    press = fake.callback_update(-100777, "menu", message_id=3)
    press["callback_query"]["message"]["chat"] = {"id": -100777, "type": "group", "title": "Nhóm"}
    fake.push_update(press)
    await _say(fake, "/help", "/menu")  # the update after it is answered
    assert stats["callback_outside_private_chat"] == skipped + 1
    assert not [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == -100777]


def test_the_chat_of_an_update_is_the_one_ptb_finds(fake: FakeTelegram) -> None:
    """Updates are read from their JSON: the inbox's chat is the one PTB's effective_chat gives,
    for every kind the fake sends; an update of no chat (an inline query) has none."""
    from telegram import Update

    from bot.channels.telegram.ordering import chat_of

    updates = [
        fake.message_update(CHAT, "/menu"),
        fake.group_message_update(-500, "/start"),
        fake.edited_message_update(CHAT, 1, "sửa"),
        fake.callback_update(CHAT, "menu", message_id=2),
        fake.sticker_update(CHAT),
        fake.photo_update(CHAT),
        fake.voice_update(CHAT),
    ]
    for update in updates:
        fake.push_update(update)  # numbers it
        chat = Update.de_json(update, None).effective_chat
        assert chat is not None and chat_of(update) == str(chat.id)
    inline = {"update_id": 99, "inline_query": {"id": "1", "from": {"id": 1, "is_bot": False,
              "first_name": "A"}, "query": "x", "offset": ""}}  # fmt: skip
    assert Update.de_json(inline, None).effective_chat is None and chat_of(inline) == ""
    assert chat_of({"update_id": 100, "message": {"chat": {}}}) == ""  # malformed: no chat


async def test_documents_travel_both_ways(fake: FakeTelegram, db: Engine, polling: Any) -> None:
    codes = _codes(db)
    await _onboard(fake, codes["admin"])
    await _say(fake, "/import", "gửi danh sách doanh nghiệp")
    big = fake.document_update(
        CHAT, content=b"x", file_name="big.xlsx", mime_type="application/octet-stream",
        file_size=25 * 1024 * 1024,
    )  # fmt: skip
    await _after(fake, big, "sendMessage", lambda c: "vượt giới hạn 20 MB" in _text(c))
    assert fake.calls_to("getFile") == []  # refused before any download
    workbook = write_xlsx(
        Path(str(db.url.database)).parent / "ds.xlsx", registry_rows(3, zones=("KCN Quế Võ",))
    )
    fake.push_update(
        fake.document_update(
            CHAT, content=workbook.read_bytes(), file_name="../../danh sách.xlsx",
            mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    )  # fmt: skip
    preview = (await fake.await_for("sendMessage", lambda c: "Tệp sẽ tạo mới 3" in _text(c)))[-1]
    await _press(fake, preview, "Đồng ý nhập", "Đã nhập xong: 3 tạo mới")
    assert len(fake.calls_to("getFile")) == 1 and len(fake.downloads) == 1
    digest = hashlib.sha256(workbook.read_bytes()).hexdigest()  # read ahead, in the files worker
    assert (digest, tabular.FORM_LIMITS) in tabular._readings
    started = await _say(fake, "/export", "Đang lập danh sách doanh nghiệp")  # answered at once
    await fake.await_for("sendMessage", lambda c: "(4 doanh nghiệp)" in _text(c))  # then the list
    sent = await fake.await_for("sendDocument")
    assert started.at <= sent[-1].at
    upload = next(iter(sent[-1].files.values()))
    folder = Path(str(db.url.database)).parent
    (folder / "got.xlsx").write_bytes(upload)
    sheet = openpyxl.load_workbook(folder / "got.xlsx").active
    assert sheet is not None and sheet.max_row == 3 + 4


SECRET = "s3cret-Token"


@pytest.fixture
async def webhook(fake: FakeTelegram, db: Engine, tmp_path: Path) -> AsyncIterator[str]:
    """The service in webhook mode: the web front, the channel on it; yields the webhook's URL."""
    port = free_port()
    settings = _settings(fake, tmp_path).model_copy(
        update={
            "web_port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "webhook_secret": SecretStr(SECRET),
        }
    )
    web = WebFront(settings, db)
    channel = TelegramChannel(settings, build_core(settings, db, lambda: NOW), web=web)
    await web.start()
    await channel.start()  # as `thidua run` starts it with THIDUA_PUBLIC_URL set
    try:
        yield str(settings.telegram_webhook_url)
    finally:
        await web.stop()
        await channel.stop()
        await channel.close()


async def _post(url: str, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_onboarding_over_webhook(fake: FakeTelegram, db: Engine, webhook: str) -> None:
    codes = _codes(db)
    assert fake.webhook is not None and fake.webhook["url"] == webhook
    assert fake.webhook["secret_token"] == SECRET
    update = fake.message_update(CHAT, f"/start {codes['board']}")
    assert await fake.apost_to_webhook(webhook, update, "wrong") == 403
    assert await fake.apost_to_webhook(webhook, update, None) == 403
    assert await fake.apost_to_webhook(webhook, update, SECRET) == 200
    ask = (await fake.await_for("sendMessage", lambda c: "liên kết" in _text(c)))[-1]
    press = fake.callback_update(
        CHAT, _buttons(ask)["Đồng ý, liên kết"], message_id=ask.response["result"]["message_id"]
    )
    assert await fake.apost_to_webhook(webhook, press, SECRET) == 200
    menu = await fake.await_for("sendMessage", lambda c: "Danh mục chính" in _text(c))
    assert "Xuất danh sách doanh nghiệp" in _buttons(menu[-1])
    assert len([c for c in fake.calls_to("sendMessage") if "liên kết với" in _text(c)]) == 1


async def test_the_webhook_refuses_what_is_not_an_update(
    fake: FakeTelegram, db: Engine, webhook: str
) -> None:
    """A stranger's post, junk, a huge body: refused at once, nothing stored, nothing answered."""
    from sqlalchemy import text

    assert await _post(webhook, b'{"update_id": 1}', secret="s3cret-Tokem") == 403
    assert await _post(webhook, b"not json") == 400
    assert await _post(webhook, b'["update_id", 1]') == 400
    assert await _post(webhook, b'{"update_id": "1"}') == 400
    huge = b'{"update_id": 2, "message": {"text": "' + b"x" * 2_000_000 + b'"}}'
    assert await _post(webhook, huge) == 413
    health = webhook.rsplit("/", 1)[0] + "/healthz"
    async with aiohttp.ClientSession() as session, session.get(health) as response:
        assert response.status == 200 and (await response.json())["database"] == "ok"
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbox")).scalar() == 0
    assert fake.calls_to("sendMessage") == []


async def test_webhook_deliveries_out_of_order_and_twice_are_each_answered_once(
    fake: FakeTelegram, db: Engine, webhook: str
) -> None:
    """Telegram retries a webhook and spreads updates over connections; its ids restart too.
    Each delivery is answered once, in the order it arrived (stored), whatever its id."""
    later, earlier, after_reset = (
        {**fake.message_update(CHAT, text), "update_id": number}
        for text, number in (("/help", 1001), ("/lang", 1000), ("/menu", 12))
    )
    for update in (later, earlier, later, after_reset, earlier):  # each on a new connection
        assert await fake.apost_to_webhook(webhook, update, SECRET) == 200
    await fake.await_for("sendMessage", lambda c: _text(c).startswith("Tài khoản chat này"))
    texts = [_text(c) for c in fake.calls_to("sendMessage")]
    # /help once though delivered twice; /lang (an older id) once; /menu after the id reset;
    # in the order they arrived, not of their ids
    assert [t.split()[0] for t in texts] == ["Các", "Anh/Chị", "Tài"], texts
    assert "chọn ngôn ngữ" in texts[1]


async def test_a_webhook_delivery_the_database_cannot_take_is_refused_then_answered(
    fake: FakeTelegram, db: Engine, webhook: str
) -> None:
    """503 while the inbox cannot store it (Telegram delivers it again); answered once it can."""
    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER away BEFORE INSERT ON inbox BEGIN SELECT RAISE(ABORT, 'away'); END"
        )
    update = fake.message_update(CHAT, "/help")
    assert await fake.apost_to_webhook(webhook, update, SECRET) == 503
    await asyncio.sleep(0.3)
    assert fake.calls_to("sendMessage") == []  # not acknowledged, so not answered either
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER away")
    assert await fake.apost_to_webhook(webhook, update, SECRET) == 200  # Telegram's retry
    await fake.await_for("sendMessage", lambda c: "Các lệnh:" in _text(c))


async def test_a_message_kept_while_its_chat_cannot_be_opened_is_answered_later_once(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """The database refuses the chat for a moment: the person hears the message was kept and
    need not be sent again (sent twice, it would be read twice); it is answered once the
    database takes it, before what came after it."""
    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER away BEFORE INSERT ON conversation BEGIN SELECT RAISE(ABORT, 'away');"
            " END"
        )
    fake.push_update(fake.message_update(CHAT, "/help"))
    sorry = await fake.await_for("sendMessage", lambda c: "không cần gửi lại" in _text(c))
    assert not [c for c in fake.calls_to("sendMessage") if "Các lệnh:" in _text(c)]
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER away")
    # taken up again within seconds, with nothing more sent (the look-back comes after 30 s)
    await fake.await_for("sendMessage", lambda c: "Các lệnh:" in _text(c), timeout=10)
    fake.push_update(fake.message_update(CHAT, "/lang"))
    await fake.await_for("sendMessage", lambda c: "chọn ngôn ngữ" in _text(c))
    answers = [_text(c) for c in fake.calls_to("sendMessage") if c.at > sorry[-1].at]
    assert [a.split(":")[0] for a in answers] == ["Các lệnh", "Anh/Chị chọn ngôn ngữ"]


async def test_a_chat_the_database_keeps_refusing_is_retried_once_then_left_to_the_look_back(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """A refusal that lasts: one quick retry (its attempt counted, the apology not said
    again), then no storm of them."""
    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER away BEFORE INSERT ON conversation BEGIN SELECT RAISE(ABORT, 'away');"
            " END"
        )
    fake.push_update(fake.message_update(CHAT, "/help"))
    await fake.await_for("sendMessage", lambda c: "không cần gửi lại" in _text(c))
    await asyncio.sleep(12)  # the quick retry (after 5 s) and room for more, were there any
    with db.connect() as conn:
        attempts = conn.exec_driver_sql("SELECT attempts FROM inbox").scalar_one()
    assert attempts == 2  # the first and the quick retry; the look-back does the rest
    assert len([c for c in fake.calls_to("sendMessage") if "không cần" in _text(c)]) == 1


async def test_a_chat_with_a_slow_network_does_not_hold_another(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """Was: one update at a time, each waiting for its own Bot API calls."""
    slow, quick = CHAT + 1, CHAT + 2
    fake.slow_chat(slow, 2.0)
    loop = asyncio.get_running_loop()
    fake.push_update(fake.message_update(slow, "/help"))
    await asyncio.sleep(0.3)  # the slow chat's answer is on its way
    pushed = loop.time()
    fake.push_update(fake.message_update(quick, "/help"))
    await fake.await_for("sendMessage", lambda c: c.params["chat_id"] == quick, timeout=5)
    assert loop.time() - pushed < 1.5  # not behind the slow chat's 2 s
    await fake.await_for("sendMessage", lambda c: c.params["chat_id"] == slow, timeout=10)


async def test_a_polled_update_is_stored_first_and_finished_once_answered(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    from sqlalchemy import text

    await _say(fake, "/help", "Các lệnh:")
    for _ in range(100):  # the answer went out; its row is finished just after
        with db.connect() as conn:
            rows = conn.execute(text("SELECT done_at, answered_at, answer FROM inbox")).all()
        if rows and rows[0][1] is not None:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 1 and rows[0][0] is not None and rows[0][1] is not None
    assert rows[0][2] is None  # the kept answer is dropped once sent


async def test_what_a_crash_left_in_the_inbox_is_handled_and_answered_once(
    fake: FakeTelegram, db: Engine, tmp_path: Path
) -> None:
    """Killed before the core ran: the stored delivery is handled at the next start. Killed after
    the commit, before the answer went out: the kept answer is sent at the next start."""
    from bot.core.types import Reply, Result, answer_of
    from storage import inbox

    unhandled = {**fake.message_update(CHAT, "/help"), "update_id": 5000}
    handled = {**fake.message_update(CHAT + 1, "/menu"), "update_id": 5001}
    inbox.store(db, "telegram", [(str(CHAT), "5000", unhandled)], NOW)
    ids = inbox.store(db, "telegram", [(str(CHAT + 1), "5001", handled)], NOW)
    with db.begin() as conn:
        kept = answer_of(Result([Reply("Câu trả lời đã lưu trước khi tắt")]))
        inbox.mark_done(conn, ids["5001"], kept, NOW)
    settings = _settings(fake, tmp_path).model_copy(update={"poll_timeout": 1})
    channel = TelegramChannel(settings, build_core(settings, db, lambda: NOW))
    await channel.start()
    try:
        await fake.await_for("sendMessage", lambda c: "Các lệnh:" in _text(c))
        await fake.await_for("sendMessage", lambda c: "trước khi tắt" in _text(c))
        for _ in range(100):
            if not inbox.undone(db, "telegram") and not inbox.unanswered(db, "telegram"):
                break
            await asyncio.sleep(0.05)
    finally:
        await channel.stop()
        await channel.close()
    texts = [_text(c) for c in fake.calls_to("sendMessage")]
    assert sum("Các lệnh:" in t for t in texts) == 1
    assert sum("trước khi tắt" in t for t in texts) == 1
    assert inbox.undone(db, "telegram") == [] and inbox.unanswered(db, "telegram") == []


async def test_a_kept_answer_whose_file_is_gone_does_not_stop_the_start(
    fake: FakeTelegram, db: Engine, tmp_path: Path
) -> None:
    """Was: the start sent kept answers and a deleted export's file raised out of it, so the
    service could not start; and the other kept answers were not sent."""
    from bot.core.types import OutFile, Reply, Result, answer_of
    from storage import inbox

    gone = tmp_path / "data" / "exports" / "deleted.xlsx"
    stored = inbox.store(
        db, "telegram",
        [(str(CHAT), "7000", fake.message_update(CHAT, "/lists")),
         (str(CHAT + 1), "7001", fake.message_update(CHAT + 1, "/menu"))],
        NOW,
    )  # fmt: skip
    with db.begin() as conn:
        lost = Result([Reply("Danh sách đây", file=OutFile(gone, "ds.xlsx"))])
        inbox.mark_done(conn, stored["7000"], answer_of(lost), NOW)
        inbox.mark_done(conn, stored["7001"], answer_of(Result([Reply("Vẫn gửi được")])), NOW)
    settings = _settings(fake, tmp_path).model_copy(update={"poll_timeout": 1})
    channel = TelegramChannel(settings, build_core(settings, db, lambda: NOW))
    await channel.start()
    try:
        await fake.await_for("sendMessage", lambda c: "Vẫn gửi được" in _text(c))
        await _say(fake, "/help", "Các lệnh:", chat=CHAT + 2)  # and it goes on receiving
        for _ in range(100):
            if not inbox.unanswered(db, "telegram"):
                break
            await asyncio.sleep(0.05)
    finally:
        await channel.stop()
        await channel.close()
    assert inbox.unanswered(db, "telegram") == []  # the lost file is let go, not retried forever


async def test_answers_recorded_while_the_database_is_away_are_recorded_later_not_resent(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """Was: the answered rows were dropped when their write failed, and sent again later."""
    from sqlalchemy import text

    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER away BEFORE UPDATE OF answered_at ON inbox"
            " BEGIN SELECT RAISE(ABORT, 'away'); END"
        )
    await _say(fake, "/help", "Các lệnh:")
    await asyncio.sleep(0.5)  # the write of "answered" failed by now
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER away")
    for _ in range(200):  # tried again within RETRY_FINISH
        with db.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM inbox WHERE answered_at IS NULL"))
            if left.scalar() == 0:
                break
        await asyncio.sleep(0.05)
    with db.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM inbox WHERE answered_at IS NULL")).scalar() == 0
        )
    assert len([c for c in fake.calls_to("sendMessage") if "Các lệnh:" in _text(c)]) == 1


def test_long_replies_are_split_at_line_breaks() -> None:
    text = "\n".join(["dòng " * 100] * 30)
    parts = split_text(text)
    assert all(len(p) <= 4096 for p in parts) and "\n".join(parts) == text
    assert split_text("x" * 9000) == ["x" * 4096, "x" * 4096, "x" * 808]


async def test_flood_limits_are_waited_out_and_retried(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    fake.rate_limit_next("sendMessage", retry_after=1)
    started = asyncio.get_running_loop().time()
    fake.push_update(fake.message_update(CHAT, "/start"))
    call = (
        await fake.await_for("sendMessage", lambda c: "Chào mừng" in _text(c) and c.status == 200)
    )[-1]
    refused = [c for c in fake.calls_to("sendMessage") if c.status == 429]
    assert len(refused) == 1 and call.at - refused[0].at >= 0.9  # ChatPacer held the chat, retried
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_an_answer_the_network_cut_is_sent_again_within_seconds(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """A connection cut before Telegram answered (a blip on the way, a keep-alive closed at
    the wrong moment): the answer is tried again within seconds, not left for the look-back
    minutes later, and arrives once."""
    fake.drop_next("sendMessage", times=2)
    started = asyncio.get_running_loop().time()
    fake.push_update(fake.message_update(CHAT, "/start"))
    await fake.await_for("sendMessage", lambda c: "Chào mừng" in _text(c), timeout=10)
    assert asyncio.get_running_loop().time() - started < 8
    await asyncio.sleep(0.5)
    assert len([c for c in fake.calls_to("sendMessage") if "Chào mừng" in _text(c)]) == 1


async def test_an_answer_cut_after_telegram_took_it_is_not_sent_twice_at_once(
    fake: FakeTelegram, db: Engine, polling: Any
) -> None:
    """The answer came back broken off: Telegram had taken the message, so it is not tried
    again at once (the person would get it twice); it stays for the look-back."""
    fake.drop_next("sendMessage", answered=True)
    fake.push_update(fake.message_update(CHAT, "/start"))
    await fake.await_for("sendMessage", lambda c: "Chào mừng" in _text(c), timeout=10)
    await asyncio.sleep(5)  # longer than the retries after a cut would take
    assert len([c for c in fake.calls_to("sendMessage") if "Chào mừng" in _text(c)]) == 1


async def _form_step(fake: FakeTelegram, menu: Call) -> Call:
    """From the main menu to the step that takes the filled registration form."""
    home = await _press(
        fake, menu, "Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026", "năm 2026"
    )
    return await _press(fake, home, "Gửi mẫu Excel đã điền", "mẫu đăng ký đã điền")


async def test_registration_by_excel_over_telegram(
    fake: FakeTelegram, db: Engine, polling: Any, tmp_path: Path
) -> None:
    codes = _codes(db)
    menu = await _onboard(fake, codes["contact"])
    home = await _press(
        fake, menu, "Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026", "năm 2026"
    )
    sent_before = len(fake.calls_to("sendDocument"))
    fake.push_update(
        fake.callback_update(
            CHAT, _buttons(home)["Tải mẫu Excel"], message_id=home.response["result"]["message_id"]
        )
    )
    template = (await fake.await_for("sendDocument", count=sent_before + 1))[-1]
    form = tmp_path / "form.xlsx"
    form.write_bytes(next(iter(template.files.values())))
    book = openpyxl.load_workbook(form)
    book["Cá nhân"].append([1, "Nguyễn Thị Hoà", "Kế toán", "Lao động tiên tiến", "", ""])
    book["Cá nhân"].append([2, "Trần Văn Đức", "Kỹ sư", "CSTĐCS", "Giấy khen", "Sáng kiến A"])
    book["Tập thể"].append([1, "Phòng Kỹ thuật", "Tập thể lao động xuất sắc", ""])
    book.save(form)
    await _say(fake, "/menu", "Danh mục chính")
    menu = (await fake.await_for("sendMessage", lambda c: "Danh mục chính" in _text(c)))[-1]
    ask = await _form_step(fake, menu)
    assert ask is not None
    summary = await _after(
        fake,
        fake.document_update(
            CHAT,
            content=form.read_bytes(),
            file_name="dang ky.xlsx",
            mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "sendMessage",
        lambda c: "Tệp có 1 tập thể và 2 cá nhân hợp lệ." in _text(c),
    )
    review = await _press(fake, summary, "Đồng ý, dùng danh sách này", "Bước 3/3")
    await _press(fake, review, "Xác nhận và nộp", "Số tiếp nhận DK-2026-0001")
    assert not [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == BOARD_CHAT]
    await _flush_outbox(fake, db, tmp_path)  # the notice went into the outbox with the data
    notice = await fake.await_for(
        "sendMessage", lambda c: c.params["chat_id"] == BOARD_CHAT and "DK-2026-0001" in _text(c)
    )
    assert "Công ty TNHH Hoà Bình" in _text(notice[-1])
    assert "1/1 doanh nghiệp đã đăng ký." in _text(notice[-1])


async def test_a_slow_download_holds_no_other_chat(
    fake: FakeTelegram, db: Engine, polling: Any, tmp_path: Path
) -> None:
    """Was: the step downloaded the document inside the chats' turn, so every chat waited."""
    codes = _codes(db)
    await _form_step(fake, await _onboard(fake, codes["contact"]))
    fake.slow_downloads(2.0)
    loop = asyncio.get_running_loop()
    mine = len([c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == CHAT])
    fake.push_update(
        fake.document_update(
            CHAT, content=b"PK\x03\x04 not really a workbook", file_name="dang ky.xlsx",
            mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    )  # fmt: skip
    await asyncio.sleep(0.3)  # its download has begun
    other = CHAT + 9
    pushed = loop.time()
    await _say(fake, "/help", "Các lệnh:", chat=other)
    assert loop.time() - pushed < 1.5  # not behind the 2 s download
    refused = await fake.await_for(
        "sendMessage", lambda c: c.params["chat_id"] == CHAT, count=mine + 1
    )
    assert len(fake.downloads) == 1  # fetched once, ahead of the step, which took it
    assert "bị hỏng" in _text(refused[-1])
    leftovers = list((tmp_path / "data" / "incoming").iterdir())
    assert leftovers == []  # taken by the step and deleted, nothing fetched ahead left behind


async def test_year_end_report_document_over_telegram(
    fake: FakeTelegram, db: Engine, polling: Any, tmp_path: Path
) -> None:
    codes = _codes(db)
    menu = await _onboard(fake, codes["contact"])
    home = await _press(fake, menu, "Báo cáo sơ kết 6 tháng — hạn thứ Ba, 30/06/2026", "năm 2026")
    await _press(fake, home, "Nhập số liệu", "Bước 1/7")
    for typed in ("1.500", "700", "1,25 tỷ", "-500 triệu", "12 triệu", "8,5 triệu", "0"):
        await _say(fake, typed, "Đã lưu")
    pdf = pdf_bytes(16_384)
    document = fake.document_update(
        CHAT, content=pdf, file_name="bao cao.pdf", mime_type="application/pdf"
    )
    received = "Đã nhận báo cáo đã ký bao cao.pdf (PDF, 16 KB)."
    await _after(fake, document, "sendMessage", lambda c: received in _text(c))
    assert len(fake.calls_to("getFile")) == 1 and len(fake.downloads) == 1
    extra = (await fake.await_for("sendMessage", lambda c: "tài liệu kèm theo" in _text(c)))[-1]
    review = await _press(fake, extra, "Chuyển sang xem lại", "Xem lại")
    await _press(fake, review, "Xác nhận và nộp", "Số tiếp nhận SK-2026-0001")
    await _flush_outbox(fake, db, tmp_path)
    sent = await fake.await_for("sendDocument", lambda c: c.params["chat_id"] == BOARD_CHAT)
    assert list(sent[-1].files.values()) == [pdf]  # our copy, under a name of ours:
    assert list(sent[-1].file_names.values()) == ["SK-2026-0001-0100109106-bao-cao-da-ky.pdf"]
    stored = [p.name for p in (tmp_path / "data" / "files").rglob("*") if p.is_file()]
    assert stored == [hashlib.sha256(pdf).hexdigest()]


async def test_outbox_sender_maps_telegram_answers(fake: FakeTelegram, tmp_path: Path) -> None:
    from bot.channels.telegram.sender import TelegramSender
    from bot.texts.charts import zone_chart
    from scheduler.dispatcher import Outcome, Outgoing

    chart = tmp_path / "chart.png"
    zone_chart(chart, title="T", zones=["KCN A"], done=[1], owed=[2], labels=("Đã nộp", "Chưa nộp"))
    async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
        sent = await sender("42", Outgoing("Nhắc", (("g:open:registration", "Mở"),)))
        assert sent.outcome == Outcome.SENT
        call = fake.calls_to("sendMessage")[-1]
        assert (
            call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            == "g:open:registration"
        )
        fake.rate_limit_next("sendMessage", retry_after=7)
        flood = await sender("42", Outgoing("x"))
        assert (flood.outcome, flood.retry_after) == (Outcome.RETRY, 7.0)
        fake.block_chat(43)
        blocked = await sender("43", Outgoing("x"))
        assert blocked.outcome == Outcome.BLOCKED and fake.token not in blocked.error
        photo = await sender("-100", Outgoing("Tin tổng hợp", image=chart))
        assert photo.outcome == Outcome.SENT
        upload = fake.calls_to("sendPhoto")[-1]
        assert next(iter(upload.files.values())).startswith(b"\x89PNG")
        assert upload.params["caption"] == "Tin tổng hợp"


async def test_a_message_begun_is_finished_not_sent_again(fake: FakeTelegram) -> None:
    from bot.channels.telegram.sender import TelegramSender
    from scheduler.dispatcher import Outcome, Outgoing

    long_text = "\n".join(f"Dòng {n}: doanh nghiệp chưa nộp báo cáo" for n in range(300))
    async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
        fake.rate_limit_next("sendMessage", retry_after=1, after=1)  # the second part is refused
        before = len(fake.calls_to("sendMessage"))
        result = await sender("42", Outgoing(long_text))
    assert result.outcome == Outcome.SENT
    calls = fake.calls_to("sendMessage")[before:]
    statuses = [call.status for call in calls]
    assert statuses == [200, 429, 200] + [200] * (len(calls) - 3)
    texts = [call.params["text"] for call in calls if call.status == 200]
    assert "\n".join(texts) == long_text  # every part once, in order
