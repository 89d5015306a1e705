"""The aggregated lists: official layout, newest submissions only, formulas kept as text."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from storage import (
    campaigns,
    document_archive,
    dossier,
    exports,
    files,
    prizes,
    registrations,
    registry,
    reports,
    rule_list,
)
from storage.models import Campaign, Enterprise, MilestoneKind, Nominee, NomineeKind, Regime
from storage.registration_sheet import read_form, write_template
from storage.registrations import NomineeInput
from storage.report_figures import figures_for
from storage.text import clean, nfc
from storage.versions import SubmissionError
from storage.xlsx import whole_workbook
from tests.conftest import NOW
from tests.factories import pdf_bytes, submit_registration

P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE
HYPERLINK = '=HYPERLINK("http://x","y")'


def _submit(
    session: Session, campaign: Campaign, enterprise: Enterprise, *rows: NomineeInput
) -> None:
    submit_registration(session, campaign, enterprise, *rows, now=NOW)


def _world(session: Session) -> tuple[Campaign, Enterprise, Enterprise]:
    campaign = campaigns.create_campaign(
        session=session,
        year=2026,
        board_name="Ban Quản lý",
        now=NOW,
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
    zone = registry.add_zone(session=session, name="KCN Quế Võ")
    first = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A", now=NOW, zone=zone
    )
    second = registry.add_enterprise(
        session=session, tax_code="0101243150", name="Công ty B", now=NOW, zone=zone
    )
    _submit(session, campaign, first, NomineeInput(P, "Người Cũ", "LĐTT"))
    _submit(
        session, campaign, first,
        NomineeInput(P, "Trần Văn Đức", "CSTĐCS", position="Kỹ sư", initiative="Sáng kiến A"),
        NomineeInput(P, "Tên Tạm", "LĐTT", award="Giấy khen"),
        NomineeInput(P, "Lê Thị An", "LĐTT"),
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS", award="BK tỉnh"),
    )  # fmt: skip
    stored_before = session.exec(select(Nominee).where(Nominee.name == "Tên Tạm")).one()
    stored_before.name = HYPERLINK  # saved before names were checked for formulas
    session.add(stored_before)
    session.flush()
    registrations.open_draft(  # a draft of B is not a submission: not exported
        session=session, campaign=campaign, enterprise=second, now=NOW, contact_id=None
    )
    return campaign, first, second


def test_registration_list_in_the_official_layout(session: Session, tmp_path: Path) -> None:
    campaign, _first, _second = _world(session)
    path = tmp_path / "dk.xlsx"
    counts = exports.export_registrations(
        session=session, campaign=campaign, path=path, made_on=date(2026, 3, 2)
    )
    assert counts == {"cstdcs": 1, "ldtt": 2, "giay_khen": 1, "tt_ldxs": 1, "bk_tinh": 1}
    book = openpyxl.load_workbook(path)
    people = [tuple(r) for r in book["Cá nhân"].iter_rows(values_only=True)]
    assert people[0][0] == "DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM 2026"
    assert "bản đã nộp mới nhất" in people[2][0] and people[3][0] == "Ngày lập: 02/03/2026"
    assert people[4][:6] == (
        "STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận", "Họ và tên",
    )  # fmt: skip
    assert people[5][1] == (
        "Công ty A — MST 0100109106 — KCN Quế Võ — DK-2026-0002 (Đã nhận): 3 cá nhân"
    )  # each enterprise under a heading, as the form groups them
    names = [row[5] for row in people[6:9]]
    assert names == ["Lê Thị An", "Trần Văn Đức", HYPERLINK]  # Vietnamese order; no "Người Cũ"
    assert people[6][4] == "DK-2026-0002"  # the receipt of the version listed
    assert people[9][1] == "Tổng cộng: 3 dòng"
    formula = book["Cá nhân"].cell(row=9, column=6)
    assert formula.value == HYPERLINK and formula.data_type == "s"
    assert book["Cá nhân"].freeze_panes == "C6" and book["Cá nhân"].auto_filter.ref == "A5:L9"
    groups = [tuple(r) for r in book["Tập thể"].iter_rows(values_only=True)]
    assert groups[6][5:] == (
        "Phòng Kỹ thuật",
        "Tập thể lao động xuất sắc",
        "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
        "Đã nhận",
        None,
    )  # fmt: skip  (no basis written: the last column empty)
    assert "ở mọi trạng thái xem xét" in groups[2][0]
    summary = book["Tổng hợp"]
    totals = {r[0]: r for r in summary.iter_rows(values_only=True) if r and r[0]}
    # NĐ 152/2025: each prize is the multiplier × 2.340.000 đ, rounded up to 10.000 đ
    assert totals["Lao động tiên tiến"][1:5] == (2, 0.3, 710_000, 1_420_000)
    assert totals["Chiến sĩ thi đua cơ sở"][1:5] == (1, 1.0, 2_340_000, 2_340_000)
    assert totals["Giấy khen — cá nhân"][1:5] == (1, 0.3, 710_000, 710_000)
    assert totals["Giấy khen — tập thể"][1:5] == (0, 0.6, 1_410_000, 0)
    assert totals["Tập thể lao động tiên tiến"][1:5] == (0, 0.8, 1_880_000, 0)
    assert totals["Tập thể lao động xuất sắc"][1:5] == (1, 1.5, 3_510_000, 3_510_000)
    bk = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh — tập thể"
    assert totals[bk][1:5] == (1, 3.0, 7_020_000, 7_020_000)
    assert totals["Cờ thi đua của Ủy ban nhân dân tỉnh"][2] == 8.0  # never a 0
    assert "Điều 50 khoản 2 điểm e" in totals["Cờ thi đua của Ủy ban nhân dân tỉnh"][5]
    enterprise = totals["Cộng: doanh nghiệp khen thưởng và chi trả"][4]
    province = totals["Cộng: chủ tịch UBND tỉnh khen thưởng, tỉnh chi trả"][4]
    assert (enterprise, province) == (4_470_000, 10_530_000)  # split by who pays
    assert totals["Tổng cộng"][1] == 6 and totals["Tổng cộng"][4] == 15_000_000
    note = next(name for name in totals if str(name).startswith("Lương cơ sở"))
    assert "2.340.000 đồng (áp dụng từ 01/07/2024), tính theo ngày quyết định" in note
    assert "10.000 đồng (Nghị định 152/2025/NĐ-CP, Điều 49 khoản 2)" in note  # commas intact
    assert summary.cell(row=7, column=4).number_format == "#,##0"


def test_the_base_salary_follows_the_decision_day() -> None:
    assert prizes.base_salary(date(2023, 6, 30)) == (1_490_000, date(2019, 7, 1))
    assert prizes.base_salary(date(2024, 1, 1)) == (1_800_000, date(2023, 7, 1))
    assert prizes.base_salary(date(2026, 12, 4)) == (2_340_000, date(2024, 7, 1))
    assert prizes.per_award(Decimal("0.3"), 1_490_000) == 450_000  # 447.000 rounded up
    nd91 = prizes.rate(Regime.ND91_2017.value, "bk_tinh", "collective")
    assert nd91 is not None and nd91.multiplier == Decimal("2.0")


def test_report_figures_and_documents(session: Session, tmp_path: Path) -> None:
    campaign, first, _second = _world(session)
    draft = reports.open_draft(
        session=session, campaign=campaign, enterprise=first, kind=MilestoneKind.REPORT, now=NOW,
        contact_id=None,
    )  # fmt: skip
    for figure in figures_for(MilestoneKind.REPORT):
        reports.set_figure(
            session=session,
            report=draft,
            key=figure.key,
            now=NOW,
            contact_id=None,
            value={"workers_total": 70, "social_insurance": "full"}.get(figure.key, 7),
        )
    signed_pdf = pdf_bytes()
    (tmp_path / "in.pdf").write_bytes(signed_pdf)
    stored = files.store_document(
        session=session, source=tmp_path / "in.pdf", root=tmp_path / "files", now=NOW
    )
    reports.attach(
        session=session, report=draft, stored=stored, signed=True, name="../../x.pdf",
        channel=None, channel_file_id=None, now=NOW, contact_id=None,
    )  # fmt: skip
    reports.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision, now=NOW,
        contact_id=None,
    )  # fmt: skip
    figures_path = tmp_path / "sl.xlsx"
    assert (
        exports.export_report_figures(
            session=session, campaign=campaign, path=figures_path, made_on=date(2026, 3, 2)
        )
        == 1
    )
    sheet = openpyxl.load_workbook(figures_path)["Số liệu báo cáo"]
    rows = list(sheet.iter_rows(values_only=True))
    assert (
        rows[0][0] == "SỐ LIỆU BÁO CÁO TỔNG KẾT NĂM 2026" and rows[3][0] == "Ngày lập: 02/03/2026"
    )
    header = rows[4]
    assert header[:7] == ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
                          "Phiên bản", "Trạng thái xem xét")  # fmt: skip
    assert "Tổng số lao động cuối kỳ (người)" in header and "workers_total" not in header
    assert rows[5][:7] == (1, "Công ty A", "0100109106", "KCN Quế Võ", "BC-2026-0001", 1, "Đã nhận")
    workers = header.index("Tổng số lao động cuối kỳ (người)")
    assert rows[5][workers] == 70 and sheet.cell(row=6, column=workers + 1).number_format == "#,##0"
    assert rows[5][header.index("Đóng bảo hiểm xã hội")] == "Đóng đầy đủ, đúng hạn"  # words
    assert rows[6][1] == "Tổng cộng" and rows[6][workers] == 70  # the totals row
    assert sheet.freeze_panes == "C6" and sheet.auto_filter.ref.startswith("A5:")
    assert sheet.column_dimensions["B"].width >= 30
    archive_path = tmp_path / "docs.zip"
    assert (
        document_archive.zip_documents(
            session=session, campaign=campaign, root=tmp_path / "files", path=archive_path
        )
        == 1
    )
    with zipfile.ZipFile(archive_path) as archive:
        signed_name = "0100109106 Công ty A BC-2026-0001.pdf"
        assert archive.namelist() == ["danh-muc-tai-lieu.xlsx", signed_name]
        assert archive.read(signed_name) == signed_pdf
        index = openpyxl.load_workbook(io.BytesIO(archive.read("danh-muc-tai-lieu.xlsx")))
        rows = list(index["Danh mục"].iter_rows(min_row=5, values_only=True))
        assert rows[0] == (
            "STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
            "Thời điểm nộp", "Trạng thái", "Loại", "Tên tệp",
        )  # fmt: skip
        assert rows[1][1:5] == ("Công ty A", "0100109106", "KCN Quế Võ", "BC-2026-0001")
        assert rows[1][6:] == ("Đã nhận", "Báo cáo đã ký", signed_name)
        assert rows[1][5] == "08:30 02/03/2026"  # local time
        assert rows[2][1] == "Tổng cộng: 1 tệp"


def test_a_control_character_stored_by_any_way_never_breaks_an_export(
    session: Session, tmp_path: Path
) -> None:
    campaign, first, _second = _world(session)
    nominee = session.exec(select(Nominee).where(Nominee.name == "Lê Thị An")).one()
    nominee.name = "Lê Thị\x01 An\u202e"  # stored before inputs were cleaned, or by hand
    first.name = "Công ty\x0b A"
    session.add_all([nominee, first])
    session.commit()
    path = tmp_path / "dk.xlsx"
    exports.export_registrations(session=session, campaign=campaign, path=path)
    names = [r[5] for r in openpyxl.load_workbook(path)["Cá nhân"].iter_rows(values_only=True)]
    assert "Lê Thị An" in names
    enterprise = openpyxl.load_workbook(path)["Cá nhân"].cell(row=7, column=2).value
    assert enterprise == "Công ty A"


def test_the_template_writes_every_text_as_text(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    write_template(path, regime=Regime.ND98_2023.value, year=2026, enterprise=HYPERLINK + "\x01")
    sheet = openpyxl.load_workbook(path)["Cá nhân"]
    assert sheet["A2"].value == HYPERLINK and sheet["A2"].data_type == "s"


def test_a_control_character_deep_in_a_csv_is_cleaned_not_stored(tmp_path: Path) -> None:
    rows = "".join(f"{n},Người Số {n},Kỹ sư,Lao động tiên tiến\n" for n in range(1, 3_000))
    assert len(rows) > 65_536
    path = tmp_path / "ds.csv"
    path.write_text("STT,Họ và tên,Chức vụ,Danh hiệu thi đua\n" + rows
                    + "3000,Lê\x01 Thị \u202eAn,Kế toán,Lao động tiên tiến\n")  # fmt: skip
    reading = read_form(path, regime=Regime.ND98_2023.value, max_bytes=1 << 20)
    assert reading.rows[-1]["name"] == "Lê Thị An" and not reading.errors


def test_typed_text_loses_control_and_bidi_characters() -> None:
    assert nfc("Lê\u202eThị\x00 An\u2066") == "LêThị An"
    assert clean("dòng 1\ndòng 2\t\x07") == "dòng 1\ndòng 2\t"


def test_an_interrupted_workbook_leaves_no_part_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "dk.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"the earlier export")
    temporary = set(Path(tempfile.gettempdir()).glob("openpyxl.*"))
    book = openpyxl.Workbook(write_only=True)
    with pytest.raises(KeyboardInterrupt), whole_workbook(book, path):
        sheet = book.create_sheet("Cá nhân")
        for number in range(5_000):
            sheet.append([number, f"Người {number}"])
        raise KeyboardInterrupt  # Ctrl-C, a lost database, a stop: halfway through
    assert path.read_bytes() == b"the earlier export"  # kept whole, not truncated
    assert [p.name for p in path.parent.iterdir()] == ["dk.xlsx"]
    assert set(Path(tempfile.gettempdir()).glob("openpyxl.*")) == temporary
    book = openpyxl.Workbook(write_only=True)
    with whole_workbook(book, path):
        book.create_sheet("Cá nhân").append(["xong"])
    assert openpyxl.load_workbook(path)["Cá nhân"]["A1"].value == "xong"


def test_one_person_with_two_titles_is_paid_the_higher_one(
    session: Session, tmp_path: Path
) -> None:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
    )
    firm = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    _submit(
        session, campaign, firm,
        NomineeInput(P, "Trần Văn Đức", "LĐTT", award="Giấy khen", position="Kỹ sư"),
        NomineeInput(P, "trần văn đức", "CSTĐCS", initiative="Sáng kiến", position="Kỹ sư"),
        NomineeInput(P, "Lê Thị An", "LĐTT", position="Tổ 1"),
        NomineeInput(P, "Lê Thị An", "CSTĐCS", initiative="Ý tưởng", position="Tổ 2"),
    )  # fmt: skip
    exports.export_registrations(session=session, campaign=campaign, path=tmp_path / "dk.xlsx")
    summary = openpyxl.load_workbook(tmp_path / "dk.xlsx")["Tổng hợp"]
    totals = {r[0]: r for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert totals["Lao động tiên tiến"][1] == 2  # both registrations are listed and counted
    assert totals["Lao động tiên tiến"][4] == 710_000  # but Đức's LĐTT is not paid besides
    assert totals["Chiến sĩ thi đua cơ sở"][4] == 2 * 2_340_000  # two namesakes: both paid
    assert totals["Giấy khen — cá nhân"][4] == 710_000  # a commendation is paid besides
    assert totals["Tổng cộng"][4] == 710_000 + 2 * 2_340_000 + 710_000
    assert any(str(name).startswith("1 suất không tính tiền thưởng") for name in totals)


def test_higher_forms_are_proposals_passed_upward_and_listed_apart(
    session: Session, tmp_path: Path
) -> None:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
    )
    firm = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    _submit(
        session, campaign, firm,
        NomineeInput(P, "Trần Văn Đức", "CSTĐ tỉnh", award="Bằng khen của Thủ tướng Chính phủ",
                     initiative="Sáng kiến", position="Giám đốc"),
        NomineeInput(P, "Lê Văn Chủ", "", award="BK Thủ tướng", position="Chủ doanh nghiệp"),
        NomineeInput(C, "Công ty A", "", award="Huân chương Lao động hạng 3"),
    )  # fmt: skip
    with pytest.raises(SubmissionError) as unclear:  # "Bằng khen cấp trên" names no level
        registrations.validate(campaign.regime, NomineeInput(P, "X Y", "", award="Bằng khen"))
    assert unclear.value.code == "award_level_unclear"
    exports.export_registrations(session=session, campaign=campaign, path=tmp_path / "dk.xlsx")
    rows = list(
        openpyxl.load_workbook(tmp_path / "dk.xlsx")["Tổng hợp"].iter_rows(values_only=True)
    )
    names = [r[0] for r in rows if r and r[0]]
    upward = names.index("Đề nghị cấp trên khen thưởng (Thủ tướng Chính phủ, Chủ tịch nước)")
    assert upward > names.index("Chủ tịch UBND tỉnh khen thưởng, tỉnh chi trả")
    totals = {r[0]: r for r in rows if r and r[0]}
    pm = totals["Bằng khen của Thủ tướng Chính phủ — cá nhân"]
    assert (pm[1], pm[2], pm[3], pm[4]) == (2, 3.5, 8_190_000, 2 * 8_190_000)  # 3.5 × 2.340.000
    medal = totals["Huân chương Lao động hạng Ba — tập thể"]
    assert medal[1] == 1 and medal[2] == "chưa có hệ số" and medal[4] is None
    assert dossier.upward(session, campaign, approved_only=False).lines[-2:] == [
        dossier.Line(2, "Bằng khen của Thủ tướng Chính phủ", "2", "-", "2"),
        dossier.Line(3, "Huân chương Lao động hạng Ba", "-", "1", "1"),
    ]


def test_the_readme_lists_the_rules_and_rates_the_data_holds() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert rule_list.section(readme) == readme, (
        "README's rule list differs from the data: run python -m storage.rule_list --write"
        " README.md"
    )
    assert "| Tập thể lao động tiên tiến for the company itself" in readme
    assert "× 3.5 (Nghị định 152/2025/NĐ-CP)" in readme


def test_a_base_salary_decreed_later_is_added_by_setting(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import Settings

    monkeypatch.setenv("THIDUA_BASE_SALARIES", "01/07/2026=2.900.000; 2027-01-01=3100000")
    table = Settings(_env_file=None).salary_table  # type: ignore[call-arg]
    assert table == ((date(2026, 7, 1), 2_900_000), (date(2027, 1, 1), 3_100_000))
    assert prizes.base_salary(date(2026, 12, 5), table) == (2_900_000, date(2026, 7, 1))
    assert prizes.base_salary(date(2026, 6, 30), table) == (2_340_000, date(2024, 7, 1))
    monkeypatch.setenv("THIDUA_BASE_SALARIES", "mùng 1 tháng 7=2900000")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
    )
    firm = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    _submit(session, campaign, firm, NomineeInput(P, "Lê Thị An", "LĐTT"))
    exports.export_registrations(
        session=session, campaign=campaign, path=tmp_path / "dk.xlsx", salaries=table
    )
    summary = openpyxl.load_workbook(tmp_path / "dk.xlsx")["Tổng hợp"]
    totals = {r[0]: r for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert totals["Lao động tiên tiến"][3] == 870_000  # 0.3 × 2.900.000 on the 05/12 cut-off
