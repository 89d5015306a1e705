"""The Zalo channel against a fake Zalo Bot API: the contact's path as text, the webhook,
repeated deliveries, refusals, and the outbox's port."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine

from bot.channels import StartFailed
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.translate import split, texts_of
from bot.compose import build_core
from bot.core.types import Choice, Reply
from bot.settings import Settings
from bot.texts.outbox import Renderer
from bot.web import WebFront
from scheduler import dispatcher, planner
from scheduler.dispatcher import Outcome, Outgoing
from storage.engine import session_for
from tests.conftest import NOW
from tests.factories import Clock, pdf_bytes, seed_world
from tests.fake_channel import FakeChat, make_core
from tests.fake_zalo import TOKEN, FakeZalo
from tests.processes import child_env

CLERK = "7c5e1a9f0b3d4e21"  # Zalo's ids are hex strings


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    server = await FakeZalo().start()
    yield server
    await server.stop()


def _settings(tmp_path: Path, fake: FakeZalo, **more: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data", "zalo_token": TOKEN, "zalo_api_url": fake.url,
        "board_contact": "0222 3 888 888", "poll_timeout": 1,
    }  # fmt: skip
    values.update(more)
    return Settings(**values)  # type: ignore[arg-type]


async def _channel(
    engine: Engine, tmp_path: Path, fake: FakeZalo, clock: Clock, **more: object
) -> ZaloChannel:
    settings = _settings(tmp_path, fake, **more)
    web = WebFront(settings, engine, clock) if settings.web_port is not None else None
    channel = ZaloChannel(settings, build_core(settings, engine, clock), web=web)
    channel.web = web  # type: ignore[attr-defined]  (the test starts it)
    return channel


async def _say(fake: FakeZalo, text: str, expect: str) -> str:
    since = len(fake.sent)
    fake.push(fake.event(CLERK, text))
    return await fake.wait_for(CLERK, expect, since=since)


async def test_a_contact_registers_on_zalo_by_text_and_hears_the_boards_decision(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    codes, _ = seed_world(engine, NOW)
    clock = Clock(NOW)
    channel = await _channel(engine, tmp_path, fake, clock, board_chat="zalo:b0a2d")
    await channel.start()
    try:
        await _say(fake, codes["contact"].lower(), "sẽ được liên kết")  # the code alone
        said = await _say(fake, "1", "Đã liên kết tài khoản chat này")
        assert "1. Đăng ký danh hiệu thi đua — hạn thứ Ba, 14/04/2026" in said  # numbered
        await _say(fake, "1", "Đăng ký danh hiệu thi đua năm 2026")
        await _say(fake, "buoc 2/3", "Bước 2/3")
        await _say(fake, "them ca nhan", "họ và tên")
        await _say(fake, "lê thị an", "chức vụ")
        await _say(fake, "Công nhân", "danh hiệu")
        await _say(fake, "lao dong tien tien", "Hình thức khen thưởng đề nghị")
        said = await _say(fake, "khong de nghi", "Đã thêm: Lê Thị An")
        await _say(fake, "tiep tuc", "Bước 3/3")
        said = await _say(fake, "xac nhan va nop", "Số tiếp nhận DK-2026-0001")
        since = len(fake.sent)
        fake.push(fake.event(CLERK, None, kind="message.sticker.received"))
        await fake.wait_for(
            CLERK, "ảnh, nhãn dán, tin nhắn thoại và tệp không tới được", since=since
        )
        board = FakeChat(make_core(engine, tmp_path, clock), "b1")
        board.command(f"/start {codes['board']}")
        board.press("Đồng ý")
        board.command("/review")
        board.press("Đăng ký danh hiệu thi đua")
        board.text("1")
        board.press("trả lại để sửa")
        board.text("Ghi rõ chức vụ.")
        clock.now = NOW + timedelta(days=1)
        render = Renderer(channel.settings, clock)
        since = len(fake.sent)
        await dispatcher.dispatch(engine, ports={"zalo": channel.port}, render=render, clock=clock)
        said = await fake.wait_for(CLERK, "Ghi rõ chức vụ.", since=since)
        assert "Đăng ký mới DK-2026-0001" in fake.said_to("b0a2d")  # the board's chat on Zalo
        assert "Gõ /menu để mở." in said  # no buttons on Zalo
        clock.now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # the report's 3-day step
        with session_for(engine) as session:
            planner.plan(session=session, now=clock.now, tz=channel.settings.tz)
            session.commit()
        since = len(fake.sent)
        await dispatcher.dispatch(engine, ports={"zalo": channel.port}, render=render, clock=clock)
        said = await fake.wait_for(CLERK, "chưa nộp báo cáo tổng kết năm 2026", since=since)
        assert said.count("Kính gửi") == 1
    finally:
        await channel.stop()
        await channel.close()


async def test_the_webhook_checks_the_secret_takes_both_shapes_and_dedupes(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    import aiohttp

    codes, _ = seed_world(engine, NOW)
    clock = Clock(NOW)
    channel = await _channel(
        engine, tmp_path, fake, clock, web_port=0, public_url="https://thidua.example.vn",
        zalo_webhook=True,
    )  # fmt: skip
    web = channel.web  # type: ignore[attr-defined]
    await web.start()
    await channel.start()
    url = f"http://127.0.0.1:{web.port}/zalo"
    secret = channel.settings.zalo_webhook_secret
    assert secret is not None
    event = fake.event(CLERK, f"/start {codes['contact']}", message_id="a1")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=event) as refused:
                assert refused.status == 403
            headers = {"X-Bot-Api-Secret-Token": secret}
            async with http.post(url, data=b"", headers=headers) as probe:
                assert probe.status == 200  # Zalo's empty probe
            async with http.post(url, data=b"{not json", headers=headers) as junk:
                assert junk.status == 400
            for body in (event, {"ok": True, "result": event}):  # bare, then wrapped: one id
                async with http.post(url, json=body, headers=headers) as taken:
                    assert taken.status == 200
            await fake.wait_for(CLERK, "sẽ được liên kết", since=0)
            wrapped = {"ok": True, "result": fake.event(CLERK, "1", message_id="a2")}
            async with http.post(url, json=wrapped, headers=headers) as taken:
                assert taken.status == 200
            await fake.wait_for(CLERK, "Đã liên kết", since=0)
        assert fake.said_to(CLERK).count("sẽ được liên kết") == 1  # the repeat was dropped
        assert "getUpdates" not in fake.calls  # no polling beside a webhook
    finally:
        await channel.stop()
        await channel.close()
        await web.stop()


async def test_a_refused_token_or_a_set_webhook_stops_the_start_with_one_line(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    clock = Clock(NOW)
    wrong = await _channel(engine, tmp_path, fake, clock, zalo_token="1:wrong")
    with pytest.raises(StartFailed, match="THIDUA_ZALO_TOKEN"):
        await wrong.start()
    fake.webhook = {"url": "https://elsewhere.example/zalo", "secret": "x" * 16}
    polling = await _channel(engine, tmp_path, fake, clock)
    with pytest.raises(StartFailed, match="webhook delete"):
        await polling.start()


async def test_polling_backs_off_on_errors_and_goes_on(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    codes, _ = seed_world(engine, NOW)
    channel = await _channel(engine, tmp_path, fake, Clock(NOW))
    fake.fail("getUpdates", 403, 403, "internal server error")  # Zalo's 403 is its own fault
    fake.fail("getUpdates", 200, 500, "ok false inside a 200")
    await channel.start()
    try:
        await _say(fake, f"/start {codes['contact']}", "sẽ được liên kết")
    finally:
        await channel.stop()
        await channel.close()


async def test_the_outbox_port_maps_zalo_refusals(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    channel = await _channel(engine, tmp_path, fake, Clock(NOW))
    await channel.api.start()
    try:
        send = channel.port.send
        message = Outgoing("Nhắc hạn", (("g:open:report", "Mở"),))
        assert (await send(CLERK, message)).outcome == Outcome.SENT
        assert fake.sent[-1] == (CLERK, "Nhắc hạn\nGõ /menu để mở.")
        for status, code, outcome in (
            (429, 429, Outcome.RETRY), (403, 403, Outcome.RETRY), (401, 401, Outcome.FAILED),
            (200, 400, Outcome.FAILED),
        ):  # fmt: skip
            fake.fail("sendMessage", status, code)
            assert (await send(CLERK, message)).outcome == outcome
    finally:
        await channel.close()


def test_replies_become_numbered_texts_within_two_thousand_characters() -> None:
    reply = Reply("Chọn:", (Choice("3:a", "Đồng ý"), Choice("3:b", "Không")))
    assert texts_of(reply) == ["Chọn:\n1. Đồng ý\n2. Không"]
    long = "\n".join(f"Dòng {n}: " + "x" * 90 for n in range(60))
    pieces = split(long)
    assert len(pieces) == 3 and all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces) == long  # cut at line ends, nothing lost
    assert all(len(p) <= 2000 for p in split("y" * 4500))


def _link(text: str, kind: str) -> str:
    """The path of the last /u/ or /f/ link in a text."""
    found = re.findall(rf"https://thidua\.example\.vn(/{kind}/[A-Za-z0-9_-]+)", text)
    assert found, text
    return str(found[-1])


async def test_files_travel_through_one_time_links_and_bad_uses_are_refused(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    import aiohttp

    codes, _ = seed_world(engine, NOW)
    clock = Clock(NOW)
    channel = await _channel(
        engine, tmp_path, fake, clock, web_port=0, public_url="https://thidua.example.vn",
        import_max_mb=1,
    )  # fmt: skip
    web = channel.web  # type: ignore[attr-defined]
    await web.start()
    await channel.start()
    base = f"http://127.0.0.1:{web.port}"

    def form(content: bytes, name: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("file", content, filename=name, content_type="application/pdf")
        return data

    try:
        await _say(fake, codes["contact"], "sẽ được liên kết")
        await _say(fake, "1", "Đã liên kết")
        await _say(fake, "bao cao tong ket nam", "Báo cáo tổng kết năm 2026")
        said = await _say(fake, "gui bao cao da ky", "/u/")
        upload = _link(said, "u")
        async with aiohttp.ClientSession() as http:
            async with http.get(base + upload) as page:
                assert page.status == 200 and 'type="file"' in await page.text()
            async with http.get(base + "/u/not-a-token") as unknown:
                assert unknown.status == 404
            async with http.post(base + upload, data=b"no form") as empty:
                assert empty.status == 400  # a POST without a file
            big = b"%PDF-" + b"0" * (21 * 1024 * 1024)  # past the 20 MB document limit
            async with http.post(base + upload, data=form(big, "to.pdf")) as large:
                assert large.status == 413
            assert list((tmp_path / "data" / "incoming" / "links").iterdir()) == []
            pdf = pdf_bytes()
            async with http.post(base + upload, data=form(pdf, "../../etc/bao-cao.pdf")) as ok:
                assert ok.status == 200 and "Đã nhận tệp bao-cao.pdf" in await ok.text()
            said = await fake.wait_for(CLERK, "Đã nhận báo cáo đã ký bao-cao.pdf", since=0)
            extra = _link(said, "u")  # the supporting documents' step gives a link of its own
            since = len(fake.sent)
            exe = b"MZ\x90\x00\x03 a windows program"
            async with http.post(base + extra, data=form(exe, "phu-luc.pdf")) as wrong:
                assert wrong.status == 200  # taken; the chat says what is wrong with it
            await fake.wait_for(CLERK, "không phải tài liệu PDF, DOC hoặc DOCX", since=since)
            async with http.post(base + upload, data=form(pdf, "lai.pdf")) as again:
                assert again.status == 410  # single use
            said = await _say(fake, "/menu", "Danh mục chính")
            await _say(fake, "1", "Đăng ký danh hiệu thi đua năm 2026")
            said = await _say(fake, "gui mau excel da dien", "/u/")
            stale = _link(said, "u")
            await _say(fake, "/menu", "Danh mục chính")  # the chat moves on
            async with http.post(base + stale, data=form(b"PK", "form.xlsx")) as moved:
                assert moved.status == 409
            await _say(fake, "1", "Đăng ký danh hiệu thi đua năm 2026")
            said = await _say(fake, "tai mau excel", "/f/")
            download = _link(said, "f")
            async with http.get(base + download) as got:
                assert got.status == 200 and (await got.read())[:2] == b"PK"
                workbook = await got.read()
                assert "filename*=UTF-8''dang-ky-thi-dua-2026" in got.headers["Content-Disposition"]
            said = await _say(fake, "gui mau excel da dien", "/u/")
            back = _link(said, "u")  # the form, filled, sent back through its link
            book = openpyxl.load_workbook(io.BytesIO(workbook))
            book["Cá nhân"].append([1, "Trần Văn Bình", "Tổ trưởng", "Lao động tiên tiến"])
            filled = io.BytesIO()
            book.save(filled)
            async with http.post(base + back, data=form(filled.getvalue(), "dk.xlsx")) as sent:
                assert sent.status == 200
            await fake.wait_for(CLERK, "Tệp có 0 tập thể và 1 cá nhân hợp lệ", since=0)
            await _say(fake, "dong y", "Bản nháp nay gồm 1 dòng từ tệp")
            await _say(fake, "/menu", "Danh mục chính")
            await _say(fake, "1", "Đăng ký danh hiệu thi đua năm 2026")
            said = await _say(fake, "gui mau excel da dien", "/u/")
            late = _link(said, "u")
            clock.now = NOW + timedelta(minutes=31)
            async with http.post(base + late, data=form(b"PK", "form.xlsx")) as expired:
                assert expired.status == 410
    finally:
        await channel.stop()
        await channel.close()
        await web.stop()


async def test_one_thidua_run_serves_telegram_and_zalo_together(
    tmp_path: Path, fake: FakeZalo
) -> None:
    import asyncio
    import signal
    import subprocess
    import sys

    from storage import invitations, registry
    from storage.engine import make_engine
    from storage.migrate import upgrade
    from storage.models import Role
    from storage.types import utcnow
    from tests.fake_telegram import FakeTelegram

    data_dir = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data_dir / 'thidua.sqlite3'}")
    upgrade(engine)
    with session_for(engine) as session:
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="Công ty TNHH Hoà Bình", now=NOW
        )
        codes = [
            invitations.create_invitation(
                session=session, role=Role.CONTACT, created_by="t", now=utcnow(),
                enterprise=enterprise,
            ).code
            for _ in range(2)
        ]  # fmt: skip
        session.commit()
    engine.dispose()
    log = tmp_path / "bot.log"
    with FakeTelegram() as telegram:
        env = child_env(
            THIDUA_DATA_DIR=str(data_dir), THIDUA_POLL_TIMEOUT="1",
            THIDUA_TELEGRAM_TOKEN=telegram.token, THIDUA_TELEGRAM_API_URL=telegram.base_url,
            THIDUA_TELEGRAM_FILE_URL=telegram.file_url,
            THIDUA_ZALO_TOKEN=TOKEN, THIDUA_ZALO_API_URL=fake.url,
        )  # fmt: skip
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            telegram.push_update(telegram.message_update(7007, f"/start {codes[0]}"))
            fake.push(fake.event(CLERK, codes[1]))
            await fake.wait_for(CLERK, "sẽ được liên kết", since=0, timeout=60)
            await asyncio.to_thread(
                telegram.wait_for, "sendMessage",
                lambda c: "sẽ được liên kết" in str(c.params.get("text", "")), timeout=60,
            )  # fmt: skip
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
    output = log.read_text()
    assert process.returncode == 0 and "Traceback" not in output
    assert "Khởi động các kênh: Telegram, Zalo." in output
    assert TOKEN.split(":")[1] not in output and telegram.token.split(":")[1] not in output


async def test_the_webhook_is_set_shown_and_deleted_from_the_cli(
    tmp_path: Path, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import asyncio
    import os

    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("THIDUA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("THIDUA_ZALO_TOKEN", TOKEN)
    monkeypatch.setenv("THIDUA_ZALO_API_URL", fake.url)

    async def thidua(*args: str) -> tuple[int, str]:
        code = await asyncio.to_thread(main, list(args), clock=lambda: NOW)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, said = await thidua("zalo", "webhook", "set")
    assert code == 2 and "THIDUA_PUBLIC_URL" in said  # nothing public to point at
    monkeypatch.setenv("THIDUA_PUBLIC_URL", "https://thidua.example.vn")
    monkeypatch.setenv("THIDUA_WEB_PORT", "8001")
    monkeypatch.setenv("THIDUA_ZALO_WEBHOOK", "on")
    assert (await thidua("zalo", "webhook", "set"))[0] == 0
    assert fake.webhook["url"] == "https://thidua.example.vn/zalo"
    assert 8 <= len(fake.webhook["secret"]) <= 256
    code, said = await thidua("zalo", "webhook", "info")
    assert "https://thidua.example.vn/zalo" in said
    assert (await thidua("zalo", "webhook", "delete"))[0] == 0 and fake.webhook == {}
    code, said = await thidua("invite", "create", "--role", "admin")
    assert "Trên Zalo:" in said
    monkeypatch.setenv("THIDUA_ZALO_TOKEN", "1:wrong")
    code, said = await thidua("zalo", "webhook", "info")
    assert code == 1 and "401" in said and "wrong" not in said  # the token is never printed


async def test_an_answer_refused_for_good_is_not_sent_again_and_others_are(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    from sqlalchemy import text as sql

    clock = Clock(NOW)
    channel = await _channel(engine, tmp_path, fake, clock)
    await channel.start()
    try:
        fake.fail("sendMessage", 400, 400, "bad request")  # refused for good
        fake.fail("sendMessage", 429, 429, "quota")  # refused for now
        fake.push(fake.event(CLERK, "/help", message_id="m1"))
        fake.push(fake.event("0a0b", "/help", message_id="m2"))
        for _attempt in range(200):
            with engine.connect() as conn:
                rows = dict(
                    conn.execute(sql("SELECT key, answered_at IS NOT NULL FROM inbox")).all()
                )
            if len(rows) == 2 and rows["m1"] != rows["m2"]:
                break
            await asyncio.sleep(0.05)
        assert sorted(rows.values()) == [False, True]  # one finished, one kept to send again
        kept = next(key for key, done in rows.items() if not done)
        clock.now = NOW + timedelta(minutes=3)  # later than another worker would still send
        await channel._recover()  # the look-back, now
        assert fake.said_to(CLERK if kept == "m1" else "0a0b")  # sent at last
    finally:
        await channel.stop()
        await channel.close()


async def test_an_answer_the_network_cut_is_sent_again_within_seconds(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    """As on Telegram: a connection cut before Zalo answered is tried again within seconds,
    not left for the look-back minutes later; the answer arrives once, and its row is
    finished."""
    from sqlalchemy import text as sql

    clock = Clock(NOW)
    channel = await _channel(engine, tmp_path, fake, clock)
    await channel.start()
    try:
        fake.cut("sendMessage", times=2)
        started = asyncio.get_running_loop().time()
        said = await _say(fake, "/help", "/menu")
        assert asyncio.get_running_loop().time() - started < 8
        texts = [text for chat, text in fake.sent if chat == CLERK]
        assert "/menu" in said and len(texts) == len(set(texts))  # each text once
        for _attempt in range(100):
            with engine.connect() as conn:
                done = conn.execute(sql("SELECT answered_at IS NOT NULL FROM inbox")).scalar()
            if done:
                break
            await asyncio.sleep(0.05)
        assert done
    finally:
        await channel.stop()
        await channel.close()


async def test_a_token_refused_while_polling_stops_it_and_tells_the_board(
    engine: Engine, tmp_path: Path, fake: FakeZalo
) -> None:
    from sqlmodel import select

    from storage.models import Delivery

    channel = await _channel(engine, tmp_path, fake, Clock(NOW), board_chat="telegram:-100")
    await channel.start()
    try:
        fake.fail("getUpdates", 401, 401, "Unauthorized")  # the token was reset meanwhile
        for _attempt in range(100):
            with session_for(engine) as session:
                notices = session.exec(select(Delivery).where(Delivery.kind == "notice")).all()
            if notices:
                break
            await asyncio.sleep(0.05)
        assert [(n.channel, n.chat_id) for n in notices] == [("telegram", "-100")]
        assert "THIDUA_ZALO_TOKEN" in str(notices[0].payload["text"])
        polls = fake.calls.count("getUpdates")
        await asyncio.sleep(1.5)
        assert fake.calls.count("getUpdates") == polls  # polling stopped
    finally:
        await channel.stop()
        await channel.close()
