"""The fake Bot API server, driven by the real python-telegram-bot over HTTP (no mocks)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_telegram import FakeTelegram, free_port

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A running fake server; afterwards no fake-telegram thread may be left alive."""
    server = FakeTelegram()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("fake-telegram")]
    assert leftover == []
    assert server.server_errors == []


def build_app(fake: FakeTelegram) -> Application:
    """The real Application, pointed at the fake."""
    return (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.file_url)
        .build()
    )


def make_bot(fake: FakeTelegram) -> Bot:
    """A bare Bot for tests that need no handlers."""
    return Bot(fake.token, base_url=fake.base_url, base_file_url=fake.file_url)


async def stop_app(app: Application) -> None:
    """Stop whatever part of the app got started."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()


async def test_polling_echo_button_and_edit(fake: FakeTelegram) -> None:
    async def start(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Chào mừng")

    async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        button = InlineKeyboardButton("Xác nhận", callback_data="confirm:1")
        await update.message.reply_text(
            update.message.text, reply_markup=InlineKeyboardMarkup([[button]])
        )

    async def on_button(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Đã ghi nhận")
        await query.edit_message_text(f"Bạn chọn: {query.data}")

    app = build_app(fake)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)

            fake.push_update(fake.message_update(42, "/start"))
            await fake.await_for("sendMessage", lambda c: c.params["text"] == "Chào mừng")

            fake.push_update(fake.message_update(42, "Xin chào"))
            [echoed] = await fake.await_for("sendMessage", lambda c: c.params["text"] == "Xin chào")
            assert echoed.params["chat_id"] == 42
            keyboard = echoed.params["reply_markup"]["inline_keyboard"]
            assert keyboard[0][0]["callback_data"] == "confirm:1"
            message_id = echoed.response["result"]["message_id"]
            assert echoed.response["result"]["reply_markup"] == echoed.params["reply_markup"]

            fake.push_update(fake.callback_update(42, "confirm:1", message_id=message_id))
            [answer] = await fake.await_for("answerCallbackQuery")
            assert answer.params["text"] == "Đã ghi nhận"
            [edit] = await fake.await_for("editMessageText")
            assert edit.status == 200
            assert (edit.params["chat_id"], edit.params["message_id"]) == (42, message_id)
        finally:
            await stop_app(app)

    edited = fake.message(42, message_id)
    assert edited is not None
    assert edited["text"] == "Bạn chọn: confirm:1"
    assert "reply_markup" not in edited  # editing text without a markup drops the keyboard
    assert fake.pending_updates == []  # PTB confirmed everything through `offset`
    assert fake.calls_to("getMe") and fake.calls_to("deleteWebhook")


async def test_document_download_through_handler(fake: FakeTelegram) -> None:
    content = b"PK\x03\x04" + bytes(range(256)) * 40 + b"\r\n--boundary\r\n"

    async def on_document(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        document = update.message.document
        buf = io.BytesIO()
        await (await update.get_bot().get_file(document.file_id)).download_to_memory(buf)
        await update.message.reply_text(f"{document.file_name}: {len(buf.getvalue())}")
        assert buf.getvalue() == content

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    update = fake.document_update(
        42, content=content, file_name="Danh sách doanh nghiệp.xlsx", mime_type=XLSX
    )
    assert update["message"]["document"]["file_size"] == len(content)
    async with app:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            fake.push_update(update)
            [reply] = await fake.await_for("sendMessage")
        finally:
            await stop_app(app)

    assert reply.params["text"] == f"Danh sách doanh nghiệp.xlsx: {len(content)}"
    [get_file] = fake.calls_to("getFile")
    assert get_file.response["result"]["file_path"].startswith("documents/file_")
    assert get_file.response["result"]["file_path"].endswith(".xlsx")
    assert fake.downloads == [get_file.response["result"]["file_path"]]


async def test_get_file_refusals(fake: FakeTelegram) -> None:
    big = fake.document_update(
        42, content=b"x", file_name="big.xlsx", mime_type=XLSX, file_size=25 * 1024 * 1024
    )
    async with make_bot(fake) as bot:
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("no-such-file")
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(big["message"]["document"]["file_id"])


async def test_send_document_upload_and_resend_by_file_id(fake: FakeTelegram) -> None:
    payload = b"\r\n--not-a-boundary\r\n" + bytes(range(256)) + b"\r\n"
    name = 'Báo cáo "quý 1".xlsx'
    async with make_bot(fake) as bot:
        sent = await bot.send_document(42, document=payload, filename=name, caption="Báo cáo")
        again = await bot.send_document(43, sent.document.file_id)
        downloaded = await (await bot.get_file(again.document.file_id)).download_as_bytearray()

    upload, resend = fake.calls_to("sendDocument")
    assert upload.files == {"document": payload}
    assert upload.file_names == {"document": name}
    assert upload.params == {"chat_id": 42, "caption": "Báo cáo"}
    assert sent.document.file_name == name
    assert sent.document.file_size == len(payload)
    assert sent.caption == "Báo cáo"
    assert resend.files == {}
    assert resend.params["document"] == sent.document.file_id
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert bytes(downloaded) == payload


async def test_get_updates_offset_limit_and_long_poll(fake: FakeTelegram) -> None:
    ids = [fake.push_update(fake.message_update(42, f"tin {i}")) for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    async with make_bot(fake) as bot:
        first_two = await bot.get_updates(limit=2)
        assert [u.update_id for u in first_two] == ids[:2]
        assert [u.message.text for u in first_two if u.message] == ["tin 0", "tin 1"]

        rest = await bot.get_updates(offset=ids[1])  # confirms ids[0]
        assert [u.update_id for u in rest] == ids[1:]
        assert [u["update_id"] for u in fake.pending_updates] == ids[1:]

        assert await bot.get_updates(offset=ids[2] + 1) == ()
        assert fake.pending_updates == []

        loop = asyncio.get_running_loop()
        loop.call_later(0.2, fake.push_update, fake.message_update(42, "muộn"))
        started = time.monotonic()
        late = await bot.get_updates(offset=ids[2] + 1, timeout=5)
        assert time.monotonic() - started < 2
        assert [u.message.text for u in late if u.message] == ["muộn"]

        started = time.monotonic()
        assert await bot.get_updates(offset=late[0].update_id + 1, timeout=1) == ()
        assert 0.9 < time.monotonic() - started < 2


async def test_stop_ends_a_long_poll_promptly(fake: FakeTelegram) -> None:
    async with make_bot(fake) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(fake.stop)
        assert await asyncio.wait_for(poll, 2) == ()
        assert time.monotonic() - started < 2


async def test_rate_limit_raises_retry_after(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, no deprecation
    fake.rate_limit_next("sendMessage", retry_after=7)
    async with make_bot(fake) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(42, "Nhắc việc")
        assert caught.value.retry_after == timedelta(seconds=7)
        await bot.send_message(42, "Nhắc việc")

    limited, passed = fake.calls_to("sendMessage")
    assert limited.status == 429
    assert limited.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert passed.status == 200


async def test_blocked_chat_raises_forbidden(fake: FakeTelegram) -> None:
    fake.block_chat(42)
    async with make_bot(fake) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(42, "Xin chào")
        with pytest.raises(Forbidden):
            await bot.send_document(42, document=b"data", filename="a.txt")
        await bot.send_message(43, "Người khác vẫn nhận được")
        fake.unblock_chat(42)
        await bot.send_message(42, "Đã mở chặn")
    assert [c.status for c in fake.calls_to("sendMessage")] == [403, 200, 200]


async def test_commands_recorded_per_scope_and_language(fake: FakeTelegram) -> None:
    scope = BotCommandScopeChat(42)
    vi = [BotCommand("start", "Bắt đầu"), BotCommand("menu", "Danh mục")]
    async with make_bot(fake) as bot:
        await bot.set_my_commands(vi, scope=scope, language_code="vi")
        await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
        assert await bot.get_my_commands(scope=scope, language_code="vi") == tuple(vi)
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Start", "viết hoa")])
        await bot.delete_my_commands(scope=scope, language_code="vi")

    first = fake.calls_to("setMyCommands")[0]
    assert first.params["scope"] == {"type": "chat", "chat_id": 42}
    assert first.params["language_code"] == "vi"
    assert isinstance(first.raw["scope"], str)  # nested objects travel as JSON strings
    assert json.loads(first.raw["scope"]) == {"type": "chat", "chat_id": 42}
    assert fake.commands_for({"type": "chat", "chat_id": 42}, "vi") is None  # deleted
    assert fake.commands_for(language_code="en") == [{"command": "start", "description": "Start"}]
    assert fake.commands_for() is None


async def test_webhook_secret_token(fake: FakeTelegram) -> None:
    handled: list[str] = []

    async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        handled.append(update.message.text)
        await update.message.reply_text(f"nhận: {update.message.text}")

    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                secret_token="s3cret",
                webhook_url=url,
            )
            [set_webhook] = fake.calls_to("setWebhook")
            assert set_webhook.params["url"] == url
            assert set_webhook.params["secret_token"] == "s3cret"
            assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret"
            assert (await app.bot.get_webhook_info()).url == url

            wrong = fake.message_update(42, "sai mật khẩu")
            assert await fake.apost_to_webhook(url, wrong, "wrong") == 403
            assert await fake.apost_to_webhook(url, wrong, None) == 403
            right = fake.message_update(42, "đúng mật khẩu")
            assert await fake.apost_to_webhook(url, right, "s3cret") == 200
            [reply] = await fake.await_for("sendMessage")
            assert reply.params["text"] == "nhận: đúng mật khẩu"

            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()
        finally:
            await stop_app(app)
    assert handled == ["đúng mật khẩu"]


async def test_telegram_like_refusals(fake: FakeTelegram) -> None:
    too_long = InlineKeyboardButton("x", callback_data="d" * 65)
    async with make_bot(fake) as bot:
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(42, "a", reply_markup=InlineKeyboardMarkup([[too_long]]))
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(42, "á" * 4097)
        await bot.send_message(42, "<b>" + "á" * 4096 + "</b>", parse_mode="HTML")
        sent = await bot.send_message(42, "giữ nguyên")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("giữ nguyên", chat_id=42, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=42, message_id=9999)
        with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
            await bot.answer_callback_query("123")
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url, base_file_url=fake.file_url):
            pass
    assert fake.calls_to("getMe")[-1].status == 401


def test_update_builders_parse_in_ptb(fake: FakeTelegram) -> None:
    def parsed(update: dict[str, Any]) -> Update:
        fake.push_update(update)  # assigns the update_id
        return Update.de_json(update, None)

    group = parsed(fake.group_message_update(-500, "/start@thidua_test_bot"))
    assert group.effective_chat is not None and group.effective_chat.type == "group"
    assert group.message is not None and group.message.entities[0].type == "bot_command"
    sticker = parsed(fake.sticker_update(42))
    assert sticker.message is not None and sticker.message.sticker is not None
    photo = parsed(fake.photo_update(42, caption="ảnh"))
    assert photo.message is not None and len(photo.message.photo) == 2
    voice = parsed(fake.voice_update(42))
    assert voice.message is not None and voice.message.voice is not None
    edited = parsed(fake.edited_message_update(42, 1, "sửa"))
    assert edited.edited_message is not None and edited.edited_message.edit_date is not None
    english = parsed(fake.message_update(7, "hi", language_code="en"))
    assert english.effective_user is not None and english.effective_user.language_code == "en"
    ids = [u["update_id"] for u in fake.pending_updates]
    assert ids == sorted(ids) and len(ids) == 6
    with pytest.raises(ValueError, match="negative"):
        fake.group_message_update(5, "x")


def test_wait_for_blocks_and_reports(fake: FakeTelegram) -> None:
    def send() -> None:
        body = urllib.parse.urlencode({"chat_id": "42", "text": "123"}).encode()
        urllib.request.urlopen(f"{fake.base_url}{fake.token}/sendMessage", body, timeout=5).close()

    timer = threading.Timer(0.1, send)
    timer.start()
    try:
        [call] = fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 42, timeout=5)
    finally:
        timer.join()
    assert call.params["text"] == "123"  # text stays a string even when it looks like JSON
    with pytest.raises(AssertionError, match=r"saw 0; calls so far:\n  sendMessage -> 200"):
        fake.wait_for("editMessageText", timeout=0.1)
