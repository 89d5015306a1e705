"""The ``thidua`` command end to end on a real SQLite file, as an operator uses it."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.cli import main
from storage import campaigns, registrations, registry
from storage import links as links_module
from storage.engine import make_engine, session_for
from storage.migrate import head_revision
from storage.models import Enterprise, NomineeKind
from storage.registrations import NomineeInput
from tests.conftest import NOW
from tests.factories import registry_rows, valid_tax_codes, write_xlsx
from tests.fake_channel import FakeChat, make_core


@pytest.fixture
def thidua(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Runs the CLI in a clean directory with a fixed clock; returns (exit code, out, err)."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("THIDUA_"):
            monkeypatch.delenv(key)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args), clock=lambda: NOW)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_run_without_token_seeds_the_demo_and_says_what_it_did(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = thidua("run")
    assert code == 0
    assert "Chưa cấu hình mã bot Telegram" in out
    assert "Đã tạo 20 doanh nghiệp mẫu" in out
    assert (tmp_path / "data" / "thidua.sqlite3").exists()
    code, out, _ = thidua("run")
    assert "không thêm doanh nghiệp mẫu" in out  # the second start keeps the data
    code, out, _ = thidua("enterprises", "list")
    assert out.strip().splitlines()[-1] == "20 doanh nghiệp."


def test_campaign_create_and_show_in_vietnamese_words(thidua) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = thidua("campaign", "create", "2026")
    assert code == 0
    assert "Nghị định số 152/2025/NĐ-CP" in out
    assert (
        "- Đăng ký danh hiệu thi đua: nộp trước 00:00 thứ Tư, 15/04/2026"
        " — hạn cuối 23:59 thứ Ba, 14/04/2026 (còn 43 ngày)"
    ) in out
    assert "hạn cuối 23:59 thứ Sáu, 04/12/2026" in out
    code, out, _ = thidua("--lang", "en", "campaign", "show")
    assert "deadline 23:59 Tuesday, 14/04/2026 (43 days left)" in out
    code, _, err = thidua("campaign", "create", "2026")
    assert code == 2 and "Phong trào thi đua năm 2026 đã có" in err


def test_campaign_overrides(thidua) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = thidua(
        "campaign",
        "create",
        "2027",
        "--registration-before",
        "20/04/2027",
        "--no-midyear",
        "--regime",
        "nd98-2023",
    )
    assert code == 0
    assert "nộp trước 00:00 thứ Ba, 20/04/2027" in out
    assert "sơ kết" not in out
    assert "98/2023/NĐ-CP" in out
    code, _, err = thidua("campaign", "create", "2028", "--report-before", "tháng 12")
    assert code == 2 and "không phải là ngày" in err


def test_import_list_export_roundtrip(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert thidua("zones", "add", "KCN Quế Võ")[0] == 0
    rows = registry_rows(3)
    rows.append(["", "Công ty sai", "0100109107", "KCN Quế Võ"])
    write_xlsx(tmp_path / "ds.xlsx", rows, title_rows=2)
    code, out, _ = thidua("enterprises", "import", "ds.xlsx", "--create-zones")
    assert code == 1  # saved, but one row was rejected
    assert (
        "Dòng 7 — bị từ chối: Công ty sai\n    Mã số thuế “0100109107” sai chữ số kiểm tra" in out
    )
    assert "sai chữ số kiểm tra" in out
    assert "Tổng cộng: 3 tạo mới, 0 cập nhật, 0 không đổi, 1 bị từ chối." in out
    assert "Đã lưu." in out
    code, out, _ = thidua("enterprises", "export", "out.xlsx")
    assert code == 0
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    values = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "DANH SÁCH DOANH NGHIỆP TRONG CÁC KHU CÔNG NGHIỆP"
    assert values[2][:4] == ("STT", "Mã số thuế", "Tên doanh nghiệp", "Khu công nghiệp")
    assert len(values) == 3 + 3
    code, out, _ = thidua("enterprises", "import", "out.xlsx")
    assert code == 0 and "0 tạo mới, 0 cập nhật, 3 không đổi, 0 bị từ chối" in out
    code, out, _ = thidua("enterprises", "list", "--zone", "que vo")
    assert "2 doanh nghiệp." in out


def test_export_keeps_formula_like_names_as_text(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = valid_tax_codes(1)[0]
    (tmp_path / "f.csv").write_text(
        f'Tên doanh nghiệp,MST\n"=HYPERLINK(""http://x"",""y"")",{code}\n'
    )
    assert thidua("enterprises", "import", "f.csv")[0] == 0
    assert thidua("enterprises", "export", "out.xlsx")[0] == 0
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    cell = sheet.cell(row=4, column=3)
    assert cell.value == '=HYPERLINK("http://x","y")'
    assert cell.data_type == "s"


def test_file_errors_are_one_clear_line(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\x00\x01binary")
    code, _out, err = thidua("enterprises", "import", "scan.pdf")
    assert code == 2
    assert err.strip() == (
        "Lỗi: Tệp này không phải bảng tính. Anh/Chị vui lòng gửi tệp Excel (.xlsx) hoặc CSV."
    )
    code, _, err = thidua("--lang", "en", "enterprises", "import", "nothing.xlsx")
    assert code == 2 and "cannot be found" in err


def test_contacts_and_invites(thidua) -> None:  # type: ignore[no-untyped-def]
    tax = valid_tax_codes(1)[0]
    thidua("demo", "seed")
    code, _, err = thidua("contacts", "add", "--enterprise", "0100109107", "--name", "A")
    assert code == 2 and "sai chữ số kiểm tra" in err
    code, _, err = thidua("contacts", "add", "--enterprise", tax, "--name", "A")
    assert code == 2 and "Chưa có doanh nghiệp mã số thuế" in err
    code, out, _ = thidua("enterprises", "list")
    first_tax = out.split()[0]
    code, out, _ = thidua(
        "contacts",
        "add",
        "--enterprise",
        first_tax,
        "--name",
        "Trần  Thị Thuỷ",
        "--phone",
        "0987654321",
    )
    assert code == 0 and "Trần Thị Thuỷ" in out
    code, _, err = thidua("contacts", "add", "--name", "X", "--phone", "123", "--role", "board")
    assert code == 2 and "không hợp lệ" in err
    code, out, _ = thidua("invite", "create", "--enterprise", first_tax)
    assert code == 0
    invite_code = out.split("Mã mời: ")[1].split()[0]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", invite_code)
    assert f"/start {invite_code}" in out
    assert "Có hiệu lực đến 08:30 thứ Tư, 01/04/2026, chỉ dùng được một lần." in out
    code, out, _ = thidua("invite", "create", "--role", "admin", "--days", "2")
    assert code == 0 and "04/03/2026" in out
    code, _, err = thidua("invite", "create")
    assert code == 2 and "--enterprise" in err
    code, out, _ = thidua("audit")
    assert "invite.create" in out and "contact.add" in out and "cli:" in out
    assert invite_code not in out  # the clear code is never stored or logged


def test_bad_settings_fail_with_one_line(thidua, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("THIDUA_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("THIDUA_LOCALE", "fr")
    code, out, err = thidua("run")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "THIDUA_TIMEZONE" in lines[0] and "THIDUA_LOCALE" in lines[0]


def test_db_commands(thidua) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = thidua("db", "current")
    assert "(trống)" in out
    code, out, _ = thidua("db", "upgrade")
    assert code == 0 and f"phiên bản {head_revision()}." in out
    code, out, _ = thidua("db", "downgrade", "base")
    assert "(trống)" in out


def test_campaign_extend_gives_one_enterprise_more_days(thidua) -> None:  # type: ignore[no-untyped-def]
    thidua("demo", "seed")
    code, out, _ = thidua("enterprises", "list")
    tax = out.split()[0]
    code, out, _ = thidua("campaign", "extend", "--enterprise", tax, "--until", "30/04/2026")
    assert code == 0
    assert "được nộp đăng ký danh hiệu thi đua đến 23:59 thứ Năm, 30/04/2026." in out
    code, _, err = thidua("campaign", "extend", "--enterprise", "0100109107", "--until", "1/5/2026")
    assert code == 2 and "sai chữ số kiểm tra" in err
    code, out, _ = thidua("audit")
    assert "campaign.extend" in out


def test_reminders_plan_shows_who_would_get_what(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from storage import links, registry
    from storage.engine import make_engine, session_for

    thidua("campaign", "create", "2026")  # the plan's dates (the demo's are relative)
    thidua("demo", "seed")
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'thidua.sqlite3'}")
    with session_for(engine) as session:
        contact = registry.list_contacts(session=session)[0]
        links.link_chat(
            conn=session.connection(),
            contact_id=contact.id,
            channel="telegram",
            chat_id="77",
            now=NOW,
        )
        session.commit()
    code, out, _ = thidua("reminders", "plan", "--at", "2026-04-11T09:00")
    assert code == 0
    assert "[reminder 3] telegram:77 — Kính gửi Anh/Chị" in out
    assert "còn 3 ngày — hạn thứ Ba, 14/04/2026" in out
    assert "Sẽ gửi 1 tin nhắn. Chưa lưu gì." in out
    code, out, _ = thidua("reminders", "plan", "--at", "2026-04-11T09:00")
    assert "Sẽ gửi 1 tin nhắn." in out  # the dry run saved nothing
    code, _, err = thidua("reminders", "plan", "--at", "mai")
    assert code == 1 and "không phải là ngày giờ" in err
    code, _, err = thidua("reminders", "run-now")
    assert code == 1 and "THIDUA_TELEGRAM_TOKEN" in err


def test_export_commands_write_the_aggregated_lists(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = thidua("export", "registrations", "dk.xlsx")
    assert code == 2 and "Chưa có phong trào thi đua" in err
    thidua("demo", "seed")
    for what, name in (
        ("registrations", "dk.xlsx"),
        ("reports", "bc.xlsx"),
        ("documents", "bc.zip"),
    ):
        code, out, _ = thidua("export", what, name)
        assert code == 0 and f"Đã ghi tệp {name}" in out
        assert (tmp_path / name).read_bytes().startswith(b"PK")


def test_campaign_set_moves_a_deadline(thidua, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    thidua("campaign", "create", "2026")
    code, out, _ = thidua("campaign", "set", "report", "10/12/2026")
    assert code == 0 and "Báo cáo tổng kết năm: nộp trước 00:00 thứ Sáu, 11/12/2026" in out
    code, _, err = thidua("campaign", "set", "registration", "01/12/2026")
    assert code == 2 and "theo thứ tự" in err
    code, _, err = thidua("campaign", "set", "sơ kết", "01/01/1900")
    assert code == 2 and "quá xa phong trào năm 2026" in err and "Traceback" not in err
    thidua("enterprises", "import", "--create-zones", str(_registry_file(3)))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # the operator answers "no"
    code, out, _ = thidua("campaign", "set", "đăng ký", "01/03/2026")  # NOW is 02/03/2026
    assert code == 1 and "đóng ngay đăng ký danh hiệu thi đua đối với 3 doanh nghiệp" in out
    assert "15/04/2026" in thidua("campaign", "show")[1]  # not moved without a yes
    code, out, _ = thidua("campaign", "set", "đăng ký", "01/03/2026", "--yes")
    assert code == 0 and "02/03/2026" in out
    code, _, err = thidua(
        "campaign", "extend", "--enterprise", valid_tax_codes(1)[0], "--until", "31/12/9999",
        "--milestone", "báo cáo",
    )  # fmt: skip
    assert code == 2 and "quá xa" in err and "Traceback" not in err


def _registry_file(count: int) -> Path:
    """A registry workbook of ``count`` enterprises in the current directory."""
    return write_xlsx(Path("dn.xlsx"), registry_rows(count))


def test_the_board_chat_names_its_channel(thidua, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from storage.outbox import Target

    assert Settings(board_chat="zalo:8a1b-2c").board == Target("zalo", "8a1b-2c")
    assert Settings(board_chat_id="-1001234567").board == Target("telegram", "-1001234567")
    assert Settings(board_chat="zalo:x", board_chat_id="-100").board == Target("zalo", "x")
    assert Settings().board is None
    monkeypatch.setenv("THIDUA_BOARD_CHAT", "-1001234567")  # the channel forgotten
    code, out, err = thidua("run")
    assert code == 2 and out == ""
    assert "THIDUA_BOARD_CHAT" in err and "channel:chat_id" in err


def test_an_import_waits_for_the_service_on_sqlite_and_says_so(thidua, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert thidua("zones", "add", "KCN Quế Võ")[0] == 0
    write_xlsx(tmp_path / "ds.xlsx", registry_rows(30))
    service = sqlite3.connect(
        tmp_path / "data" / "thidua.sqlite3", isolation_level=None, check_same_thread=False
    )
    service.execute("BEGIN IMMEDIATE")  # the service writing when the import begins…
    service.execute("CREATE TABLE written_meanwhile (a)")
    threading.Timer(3.0, lambda: service.execute("COMMIT")).start()  # …for 3 seconds
    code, out, err = thidua("enterprises", "import", "ds.xlsx", "--create-zones")
    service.close()
    assert code == 0 and "30 tạo mới" in out and "Đã lưu." in out
    assert "Cơ sở dữ liệu đang bận" in err


def test_a_data_directory_that_cannot_be_written_is_one_line(  # type: ignore[no-untyped-def]
    thidua, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("THIDUA_DATA_DIR", str(tmp_path / "a-file" / "data"))
    code, _out, err = thidua("zones", "list")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "a-file/data" in err and "THIDUA_DATA_DIR" in err


def test_access_taken_back_from_the_cli_and_invites_that_name_the_role(  # type: ignore[no-untyped-def]
    thidua, tmp_path: Path
) -> None:
    assert thidua("contacts", "add", "--name", "Lê Văn Quản", "--role", "admin")[0] == 0
    code, _out, err = thidua("invite", "create", "--contact", "1", "--role", "contact")
    assert code == 2 and "là quản trị viên" in err  # not a "contact" code that links an admin
    code, out, _err = thidua("invite", "create", "--contact", "1")
    invite = out.split("/start ")[1].split()[0]
    engine = make_engine(f"sqlite:///{tmp_path}/data/thidua.sqlite3")
    chat = FakeChat(make_core(engine, tmp_path, lambda: NOW), "77")
    chat.command(f"/start {invite}")
    assert "với vai trò quản trị viên" in chat.said  # the confirm screen names what it grants
    chat.press("Đồng ý")
    code, out, _err = thidua("contacts", "set-role", "1", "board")
    assert code == 0 and "nay là cán bộ Ban Quản lý" in out
    chat.command("/broadcast")
    assert "chỉ dành cho quản trị viên" in chat.said
    code, out, _err = thidua("contacts", "unlink", "1")
    assert code == 0 and "1 cuộc trò chuyện" in out
    chat.command("/progress")
    assert "chưa được liên kết" in chat.said
    assert thidua("contacts", "remove", "1")[0] == 0  # though it redeemed a code
    assert thidua("contacts", "remove", "1")[0] == 2
    code, out, _err = thidua("audit")
    assert all(action in out for action in ("contact.set_role", "contact.unlink", "contact.remove"))


def test_a_person_found_and_erased_and_old_documents_pruned(  # type: ignore[no-untyped-def]
    thidua, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert thidua("contacts", "add", "--name", "Nguyễn Thị Hoà", "--phone", "0912345678",
                  "--role", "board")[0] == 0  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp_path}/data/thidua.sqlite3")
    with session_for(engine) as session:
        campaign = campaigns.create_campaign(
            session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
        )
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="Công ty A", now=NOW
        )
        draft = registrations.open_draft(
            session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
        )
        registrations.replace_nominees(
            session=session, draft=draft, now=NOW, contact_id=None,
            rows=[registrations.validate(campaign.regime, NomineeInput(kind, name, code))
                  for kind, name, code in ((NomineeKind.INDIVIDUAL, "Nguyễn Thị Hoà", "LĐTT"),
                                           (NomineeKind.COLLECTIVE, "Tổ Hoà Bình", "TT LĐTT"))],
        )  # fmt: skip
        session.commit()
    code, out, _err = thidua("person", "find", "nguyen thi hoa")
    assert "Người liên hệ #1: Nguyễn Thị Hoà · cán bộ Ban Quản lý" in out
    assert "Người được đăng ký #1: Nguyễn Thị Hoà · Công ty A (0100109106) · năm 2026" in out
    assert "Không tìm thấy ai" in thidua("person", "find", "Phạm")[1]
    assert thidua("person", "erase")[0] == 2
    code, _out, err = thidua("person", "erase", "--nominee", "2")
    assert code == 1 and "là một tập thể" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # "sure?" — "no"
    code, out, _err = thidua("person", "erase", "--contact", "1")
    assert code == 1 and "Nguyễn Thị Hoà" in thidua("contacts", "list")[1]
    code, out, _err = thidua("person", "erase", "--contact", "1", "--yes")
    assert code == 0 and "Từ nay người này được ghi là XOA-" in out
    listed = thidua("contacts", "list")[1]
    assert "Nguyễn Thị Hoà" not in listed and "091" not in listed
    code, out, _err = thidua("person", "erase", "--nominee", "1", "--yes")
    assert code == 0 and "Đã xoá tên khỏi 1 dòng" in out
    found = thidua("person", "find", "Hoà")[1]
    assert "Nguyễn Thị Hoà" not in found and "Tổ Hoà Bình" in found  # the collective stays
    assert thidua("audit")[1].count("person.erase") == 2
    code, _out, err = thidua("files", "prune")
    assert code == 2 and "THIDUA_FILES_KEEP_DAYS" in err
    code, out, _err = thidua("files", "prune", "--keep-days", "30")
    assert code == 0 and "Không có tài liệu nào quá thời hạn lưu giữ" in out


def test_invitations_for_every_unlinked_enterprise_in_one_sheet_and_clear_answers(  # type: ignore[no-untyped-def]
    thidua, tmp_path: Path
) -> None:
    thidua("campaign", "create", "2026")
    thidua("enterprises", "import", "--create-zones", str(_registry_file(3)))
    code, out, _err = thidua("contacts", "list")
    assert "người liên hệ của doanh nghiệp" in out and "(27000000" in out  # role and firm
    engine = make_engine(f"sqlite:///{tmp_path}/data/thidua.sqlite3")
    with session_for(engine) as session:  # the first enterprise's contact is linked already
        first = registry.list_contacts(session=session)[0]
        assert first.id is not None and first.enterprise_id is not None
        linked_tax = session.get(Enterprise, first.enterprise_id).tax_code  # type: ignore[union-attr]
        links_module.link_chat(
            conn=session.connection(), contact_id=first.id, channel="telegram", chat_id="9",
            now=NOW,
        )  # fmt: skip
        session.commit()
    code, out, _err = thidua("invite", "create", "--all-unlinked", "moi.xlsx")
    assert code == 0 and "2 doanh nghiệp chưa có tài khoản chat liên kết" in out
    sheet = openpyxl.load_workbook(tmp_path / "moi.xlsx")["Mã mời"]
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:I5"
    header = [c.value for c in sheet[3]]
    assert header[:6] == [
        "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Người liên hệ", "Điện thoại", "Mã mời",
    ]  # fmt: skip
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert len(rows) == 2 and linked_tax not in [r[1] for r in rows]  # it is reached already
    assert all(re.fullmatch(r"\w{4}-\w{4}-\w{4}", str(r[5])) for r in rows)
    code, _out, err = thidua("export", "registrations", "x.xlsx", "--year", "2025")
    assert code == 2 and "Không có phong trào thi đua năm 2025. Các năm đã có: 2026." in err
    code, out, _err = thidua("reminders", "plan", "--at", "2026-04-10T09:00")
    assert "tin tổng hợp gửi Ban Quản lý bị bỏ qua" in out  # no THIDUA_BOARD_CHAT


def test_an_import_names_missing_zones_once_and_skips_a_totals_row(  # type: ignore[no-untyped-def]
    thidua, tmp_path: Path
) -> None:
    codes = valid_tax_codes(4)
    rows: list[list[object]] = [["STT", "Tên doanh nghiệp", "Mã số thuế", "Khu công nghiệp"]]
    rows += [[n + 1, f"Công ty {n}", code, "KCN Quang Châu"] for n, code in enumerate(codes[:3])]
    rows.append([4, "Tổng công ty Viglacera", codes[3], "KCN Quang Châu"])
    rows.append(["Tổng cộng: 4 doanh nghiệp", None, None, None])
    rows.append([5, "Công ty lặp", codes[0], "KCN Quang Châu"])
    write_xlsx(tmp_path / "dn.xlsx", rows)
    code, out, _err = thidua("enterprises", "import", "dn.xlsx")
    assert out.count("KCN Quang Châu") == 1  # once, not once per row
    assert "1 khu công nghiệp chưa có trong danh mục: KCN Quang Châu (5 dòng)" in out
    assert "--create-zones" in out
    code, out, _err = thidua("enterprises", "import", "--create-zones", "dn.xlsx")
    assert code == 1  # saved, with a row refused
    assert "Tổng cộng: 4 tạo mới, 0 cập nhật, 0 không đổi, 1 bị từ chối." in out
    assert "Dòng 7 — bị từ chối: " in out and "đã có ở dòng 2" in out  # names the first row
    assert "Dòng 6" not in out  # the totals row is no row of the list
    assert "Tổng công ty Viglacera" in thidua("enterprises", "list")[1]  # not taken for a total
