"""The statistics form (Biểu 0603.N): categories and gender from the form, collectives "of
which enterprises", counted from the results once recorded; both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session

from bot.cli import main
from storage import campaigns, registrations, registry, results, statistics
from storage.engine import make_engine, session_for
from storage.models import Campaign, Conferrer, Nominee, NomineeKind, Regime
from storage.registration_sheet import read_form, write_template
from storage.registrations import NomineeInput
from storage.versions import SubmissionError
from tests.conftest import NOW
from tests.factories import submit_registration, write_xlsx

P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_category_and_gender_are_read_from_the_form_and_optional(tmp_path: Path) -> None:
    regime = Regime.ND152_2025.value
    path = write_xlsx(tmp_path / "dk.xlsx", [
        ["Họ và tên", "Chức vụ, đơn vị", "Danh hiệu thi đua", "Đối tượng", "Giới tính"],
        ["Lê Thị An", "Tổ trưởng", "LĐTT", "Người lao động trực tiếp", "Nữ"],
        ["Trần Văn Đức", "Giám đốc", "LĐTT", "doanh nhân", "nam"],
        ["Phạm Văn Bình", "Kỹ sư", "LĐTT", "", ""],
        ["Vũ Văn Hùng", "Kỹ sư", "LĐTT", "kỹ thuật", ""],
        ["Đỗ Thị Mai", "Kế toán", "LĐTT", "", "không rõ"],
    ])  # fmt: skip
    reading = read_form(path, regime=regime, max_bytes=10**6)
    got = {r["name"]: (r["category"], r["gender"]) for r in reading.rows}
    assert got == {
        "Lê Thị An": ("worker", "female"), "Trần Văn Đức": ("entrepreneur", "male"),
        "Phạm Văn Bình": (None, None),
    }  # fmt: skip
    assert sorted(e.code for e in reading.errors) == ["category_unknown", "gender_unknown"]
    with pytest.raises(SubmissionError):
        registrations.validate(regime, NomineeInput(P, "X Y", "LĐTT", category="sếp"))
    collective = registrations.validate(regime, NomineeInput(C, "Phòng A", "TT LĐTT",
                                                             category="Doanh nhân"))  # fmt: skip
    assert collective["category"] is None  # people only
    template = tmp_path / "mau.xlsx"
    rows = [Nominee(registration_id=0, **reading.rows[0])]  # type: ignore[arg-type]
    write_template(template, regime=regime, year=2026, enterprise="Công ty A", rows=rows)
    sheet = openpyxl.load_workbook(template)["Cá nhân"]
    assert [c.value for c in sheet[3]][-3:-1] == ["Đối tượng (không bắt buộc)",
                                                "Giới tính (không bắt buộc)"]  # fmt: skip
    assert [c.value for c in sheet[4]][-3:-1] == ["Người lao động trực tiếp", "Nữ"]
    again = read_form(template, regime=regime, max_bytes=10**6)
    assert (again.rows[0]["category"], again.rows[0]["gender"]) == ("worker", "female")


def test_the_basis_column_is_read_and_written(tmp_path: Path) -> None:
    regime = Regime.ND152_2025.value
    path = write_xlsx(tmp_path / "cs.xlsx", [
        ["Tên tập thể", "Danh hiệu thi đua", "Căn cứ đề nghị"],
        ["Phòng Kỹ thuật", "Cờ thi đua của UBND tỉnh", "Dẫn đầu Cụm thi đua số 3"],
    ])  # fmt: skip
    reading = read_form(path, regime=regime, max_bytes=10**6)
    assert reading.rows[0]["basis"] == "Dẫn đầu Cụm thi đua số 3"
    template = tmp_path / "mau.xlsx"
    rows = [Nominee(registration_id=0, **reading.rows[0])]  # type: ignore[arg-type]
    write_template(template, regime=regime, year=2026, enterprise="Công ty A", rows=rows)
    assert read_form(template, regime=regime, max_bytes=10**6).rows[0]["basis"] == (
        "Dẫn đầu Cụm thi đua số 3"
    )


def _world(session: Session) -> Campaign:
    campaign = campaigns.create_campaign(session=session, year=2026, board_name="Ban Quản lý",
                                         now=NOW, tz=TZ, regime=Regime.ND152_2025)  # fmt: skip
    firm = registry.add_enterprise(session=session, tax_code="0100109106", name="Công ty A",
                                   now=NOW)  # fmt: skip
    submit_registration(
        session, campaign, firm,
        NomineeInput(P, "Lê Thị An", "LĐTT", category="Người lao động trực tiếp", gender="Nữ"),
        NomineeInput(P, "Trần Văn Đức", "LĐTT", award="BK tỉnh", category="Doanh nhân",
                     gender="Nam"),
        NomineeInput(P, "Phạm Văn Bình", "CSTĐCS", initiative="S", category="Cán bộ quản lý"),
        NomineeInput(P, "Đỗ Thị Mai", "LĐTT", gender="Nữ"),
        NomineeInput(C, "Công ty A", "TT LĐXS"),
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐTT"),
        now=NOW,
    )  # fmt: skip
    session.commit()
    return campaign


def _sheet(path: Path) -> dict[str, tuple[object, ...]]:
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = sheet.iter_rows(min_row=6, values_only=True)
    return {str(r[1]): tuple(r[2:]) for r in rows}


def test_the_statistics_count_proposals_then_what_was_conferred(
    session: Session, tmp_path: Path
) -> None:
    campaign = _world(session)
    found = statistics.write_statistics(
        session=session, campaign=campaign, path=tmp_path / "tk.xlsx", made_on=date(2026, 12, 8)
    )
    assert not found.from_results
    table = _sheet(tmp_path / "tk.xlsx")
    #                         tập thể, trong đó DN, cá nhân, DN-nhân, quản lý, trực tiếp, chưa, nữ
    assert table["Lao động tiên tiến"] == (0, 0, 3, 1, 0, 1, 1, 2)
    assert table["Tập thể lao động xuất sắc"] == (1, 1, 0, 0, 0, 0, 0, 0)
    assert table["Tập thể lao động tiên tiến"] == (1, 0, 0, 0, 0, 0, 0, 0)
    assert table["Tổng cộng"] == (2, 1, 5, 2, 1, 1, 1, 2)
    # results recorded: only what was conferred counts, under what was conferred
    for proposal in results.proposals(session, campaign):
        recognised = proposal.name != "Đỗ Thị Mai"
        conferred = "cstdcs" if proposal.name == "Lê Thị An" else proposal.code
        decision = results.Decision(recognised, conferred if recognised else None, "1/QĐ",
                                    None, Conferrer.ENTERPRISE)  # fmt: skip
        results.record(session, campaign, proposal, decision, actor="t", now=NOW)
    session.commit()
    found = statistics.write_statistics(
        session=session, campaign=campaign, path=tmp_path / "tk2.xlsx"
    )
    assert found.from_results
    table = _sheet(tmp_path / "tk2.xlsx")
    assert table["Lao động tiên tiến"] == (0, 0, 1, 1, 0, 0, 0, 0)
    assert table["Chiến sĩ thi đua cơ sở"] == (0, 0, 2, 0, 1, 1, 0, 1)


def test_the_statistics_from_the_command_line(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"], clock=lambda: NOW) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'thidua.sqlite3'}")
    with session_for(engine) as session:
        _world(session)
    assert main(["export", "statistics", "tk.xlsx"], clock=lambda: NOW) == 0
    sheet = openpyxl.load_workbook(tmp_path / "tk.xlsx").active
    assert sheet is not None and "Biểu số 0603.N" in str(sheet["A1"].value)


def test_a_collectives_headcount_is_read_from_the_form_and_written_back(tmp_path: Path) -> None:
    regime = Regime.ND152_2025.value
    path = write_xlsx(tmp_path / "tt.xlsx", [
        ["Tên tập thể", "Danh hiệu thi đua", "Số người"],
        ["Phòng Kỹ thuật", "TT LĐTT", 12],
        ["Phân xưởng Sơn", "TT LĐTT", ""],
        ["Tổ Bảo vệ", "TT LĐTT", "nhiều"],
    ])  # fmt: skip
    reading = read_form(path, regime=regime, max_bytes=10**6)
    got = {r["name"]: r["members"] for r in reading.rows}
    assert got == {"Phòng Kỹ thuật": 12, "Phân xưởng Sơn": None}
    assert [e.code for e in reading.errors] == ["members_invalid"]
    template = tmp_path / "mau.xlsx"
    rows = [Nominee(registration_id=0, **r) for r in reading.rows]  # type: ignore[arg-type]
    write_template(template, regime=regime, year=2026, enterprise="Công ty A", rows=rows)
    again = read_form(template, regime=regime, max_bytes=10**6)
    assert sorted(r["members"] or 0 for r in again.rows) == [0, 12]
