"""The terminal channel: the same onboarding typed in a shell, and the README's run command."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.channels.terminal import TerminalChannel, parse_line
from bot.core.types import Kind
from storage import campaigns, invitations, registrations, registry
from storage.engine import session_for
from storage.models import Enterprise, NomineeKind, Role
from storage.registrations import NomineeInput
from tests.conftest import NOW
from tests.factories import registry_rows, seed_world, write_xlsx
from tests.fake_channel import FakeChat, make_core
from tests.processes import child_env


def _invite(engine: Engine, role: Role = Role.CONTACT) -> str:
    with session_for(engine) as session:
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="Công ty TNHH Hoà Bình", now=NOW
        )
        code = invitations.create_invitation(
            session=session, role=role, created_by="t", now=NOW, enterprise=enterprise
        ).code
        session.commit()
    return code


def test_lines_become_inputs(tmp_path: Path) -> None:
    assert parse_line("   ", chat_id="c", user_name="u", language="vi") is None
    command = parse_line("/start ABC def", chat_id="c", user_name="u", language="vi")
    assert command is not None and (command.kind, command.command, command.args) == (
        Kind.COMMAND, "start", "ABC def",
    )  # fmt: skip
    (tmp_path / "a.xlsx").write_bytes(b"1234")
    file = parse_line(f"@{tmp_path / 'a.xlsx'}", chat_id="c", user_name="u", language="vi")
    assert file is not None and file.file is not None and file.file.size == 4
    text = parse_line("2", chat_id="c", user_name="u", language="vi")
    assert text is not None and text.kind == Kind.TEXT


def test_onboarding_in_the_terminal(engine: Engine, tmp_path: Path) -> None:
    code = _invite(engine)
    out = io.StringIO()
    channel = TerminalChannel(
        make_core(engine, tmp_path, lambda: NOW),
        chat_id="local",
        user_name="Lê Thị Thuỷ",
        stdin=io.StringIO("1\n/help\n"),
        stdout=out,
        outbox=tmp_path / "outbox",
    )
    channel.run(first=f"/start {code}")
    text = out.getvalue()
    assert "Công ty TNHH Hoà Bình (mã số thuế 0100109106)" in text
    assert "  1. Đồng ý, liên kết\n  2. Không, huỷ" in text
    assert "Đã liên kết tài khoản chat này. Xin chào Anh/Chị Lê Thị Thuỷ." in text
    assert "/cancel — dừng thao tác đang làm" in text


def test_admin_sends_and_receives_files_by_path(engine: Engine, tmp_path: Path) -> None:
    with session_for(engine) as session:
        registry.add_zone(session=session, name="KCN Quế Võ")
        session.commit()
    code = _invite(engine, Role.ADMIN)
    workbook = write_xlsx(tmp_path / "ds.xlsx", registry_rows(2, zones=("KCN Quế Võ",)))
    out = io.StringIO()
    channel = TerminalChannel(
        make_core(engine, tmp_path, lambda: NOW),
        chat_id="local",
        user_name="Quản trị",
        stdin=io.StringIO(
            f"1\n/import\n@{tmp_path / 'missing.xlsx'}\n@{workbook}\n1\n/export\n"
        ),  # "1": yes, import what the preview showed
        stdout=out,
        outbox=tmp_path / "outbox",
    )
    channel.run(first=f"/start {code}")
    text = out.getvalue()
    assert "Không có tệp tại" in text
    assert "Đã nhập xong: 2 tạo mới" in text
    saved = list((tmp_path / "outbox").glob("doanh-nghiep-kcn-*.xlsx"))
    assert len(saved) == 1 and f"[đã lưu tệp: {saved[0]}]" in text


def test_readme_run_command_opens_the_demo_chat(tmp_path: Path) -> None:
    env = child_env(THIDUA_DATA_DIR=str(tmp_path / "state"))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        input="1\n/menu\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Đã tạo 20 doanh nghiệp mẫu" in result.stdout
    assert "Tài khoản chat này sẽ được liên kết với:" in result.stdout
    assert "Đã liên kết tài khoản chat này." in result.stdout
    assert "Danh mục chính" in result.stdout


def test_choices_of_a_step_reading_values_are_shown_as_words(tmp_path: Path) -> None:
    from bot.core.types import Choice, Reply

    out = io.StringIO()
    channel = TerminalChannel(
        None,  # type: ignore[arg-type]  (rendering only)
        chat_id="local", user_name="An", stdin=io.StringIO(""), stdout=out,
        outbox=tmp_path / "outbox",
    )  # fmt: skip
    keep = (Choice("3:keep", "Giữ nguyên: 1.500"), Choice("3:skip", "Bỏ qua"))
    channel.render(Reply("Bước 1/16: Tổng số lao động", keep, typed=True))
    channel.render(Reply("Chọn:", keep))
    lines = out.getvalue().splitlines()
    assert "  • Giữ nguyên: 1.500" in lines and "  • Bỏ qua" in lines  # typed as words
    assert any("gõ một trong các lựa chọn" in line for line in lines)
    assert "  1. Giữ nguyên: 1.500" in lines  # where numbers pick


def test_the_demo_shows_the_boards_decision_in_the_open_terminal(
    engine: Engine, tmp_path: Path
) -> None:
    from bot.cli.run import terminal_chat
    from bot.compose import App
    from bot.settings import Settings

    codes, enterprise_id = seed_world(engine, NOW)
    url = engine.url.render_as_string(hide_password=False)
    app = App(settings=Settings(data_dir=tmp_path / "data", database_url=url), clock=lambda: NOW)
    out = io.StringIO()
    clerk = terminal_chat(app, "local", stdin=io.StringIO("1\n"), stdout=out)
    clerk.run(first=f"/start {codes['contact']}")  # "1": yes, link this chat
    assert "Đã liên kết tài khoản chat này." in out.getvalue()
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        enterprise = session.get(Enterprise, enterprise_id)
        assert campaign is not None and enterprise is not None
        draft = registrations.open_draft(
            session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
        )
        registrations.add_nominee(
            session=session, draft=draft, regime=campaign.regime, now=NOW, contact_id=None,
            row=NomineeInput(NomineeKind.INDIVIDUAL, "Lê Thị An", "LĐTT"),
        )  # fmt: skip
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=NOW, contact_id=None,
        )  # fmt: skip
        session.commit()
    board = FakeChat(make_core(engine, tmp_path, lambda: NOW), "b1")
    board.command(f"/start {codes['board']}")
    board.press("Đồng ý")
    board.command("/review")
    board.press("Đăng ký danh hiệu thi đua")
    board.text("1")
    board.press("đã duyệt")
    before = len(out.getvalue())
    clerk._handle_line("/menu", "vi")  # the next line the clerk types
    shown = out.getvalue()[before:]
    assert "Ban Quản lý đã xem đăng ký danh hiệu thi đua DK-2026-0001" in shown
    assert "Ban Quản lý: đã duyệt" in shown
