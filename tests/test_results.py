"""Closing the year: results per proposal by workbook round trip, the enterprise's notice, past
awards across years, and the rules that need them; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session, select

from bot.i18n import use_language
from bot.texts.results import past_lines, standing_lines
from storage import campaigns, links, registration_rules, registrations, registry, results
from storage.models import (
    AwardResult,
    Campaign,
    Conferrer,
    Delivery,
    Enterprise,
    Nominee,
    NomineeKind,
    Regime,
)
from storage.registrations import NomineeInput
from storage.registry_import import Outcome
from storage.results_sheet import HEADER, export_results, import_results
from storage.tabular import TableFileError
from tests.conftest import NOW
from tests.factories import submit_registration

P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _campaign(session: Session, year: int) -> Campaign:
    return campaigns.create_campaign(
        session=session, year=year, board_name="Ban Quản lý", now=NOW, tz=TZ,
        regime=Regime.ND152_2025,
    )  # fmt: skip


def _world(session: Session) -> tuple[Campaign, Enterprise, Enterprise]:
    campaign = _campaign(session, 2026)
    zone = registry.add_zone(session=session, name="KCN Quế Võ")
    first = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A", now=NOW, zone=zone
    )
    second = registry.add_enterprise(
        session=session, tax_code="0101243150", name="Công ty B", now=NOW, zone=zone
    )
    submit_registration(
        session, campaign, first,
        NomineeInput(P, "Trần Văn Đức", "CSTĐCS", position="Kỹ sư", initiative="Sáng kiến A"),
        NomineeInput(P, "Lê Thị An", "LĐTT", award="BK tỉnh"),
        NomineeInput(P, "Nguyễn Thị Hoà", "LĐTT", position="Tổ trưởng"),
        NomineeInput(P, "Nguyễn Thị Hoà", "LĐTT", position="Kế toán"),
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS"),
        now=NOW,
    )  # fmt: skip
    submit_registration(
        session, campaign, second, NomineeInput(P, "Phạm Văn Bình", "LĐTT"), now=NOW
    )
    session.commit()
    return campaign, first, second


def _rows(path: Path) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _fill(path: Path, answers: dict[tuple[str, str], list[object]]) -> None:
    """Fills the result columns of the exported rows named by (name, proposed title)."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=6):
        key = (row[5].value, row[7].value)
        if key in answers:
            for offset, value in enumerate(answers[key]):
                row[9 + offset].value = value
    book.save(path)


def test_the_results_workbook_lists_every_proposal_in_order_with_empty_results(
    session: Session, tmp_path: Path
) -> None:
    campaign, _first, _second = _world(session)
    path = tmp_path / "ket-qua.xlsx"
    assert export_results(session=session, campaign=campaign, path=path) == 7
    rows = _rows(path)
    assert rows[0][0] == "KẾT QUẢ KHEN THƯỞNG NĂM 2026"
    assert tuple(rows[4]) == HEADER
    data = rows[5:12]
    # enterprises in order; people by given name (Vietnamese order); the collective last;
    # a row with a title and a form is two proposals
    assert [(r[2], r[5], r[7]) for r in data] == [
        ("Công ty A", "Lê Thị An", "Lao động tiên tiến"),
        ("Công ty A", "Lê Thị An", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"),
        ("Công ty A", "Trần Văn Đức", "Chiến sĩ thi đua cơ sở"),
        ("Công ty A", "Nguyễn Thị Hoà", "Lao động tiên tiến"),
        ("Công ty A", "Nguyễn Thị Hoà", "Lao động tiên tiến"),
        ("Công ty A", "Phòng Kỹ thuật", "Tập thể lao động xuất sắc"),
        ("Công ty B", "Phạm Văn Bình", "Lao động tiên tiến"),
    ]
    assert [r[8] for r in data[:3]] == ["Doanh nghiệp", "UBND tỉnh", "Doanh nghiệp"]
    assert all(r[9] is None and r[11] is None for r in data)  # nothing decided yet
    assert rows[12][1] == "Tổng cộng: 7 đề nghị"


def test_a_filled_workbook_records_results_row_by_row_and_tells_what_it_refused(
    session: Session, tmp_path: Path
) -> None:
    campaign, first, second = _world(session)
    path = tmp_path / "ket-qua.xlsx"
    export_results(session=session, campaign=campaign, path=path)
    _fill(
        path,
        {
            ("Lê Thị An", "Lao động tiên tiến"): ["Có", None, "12/QĐ-CtyA", "20/12/2026"],
            ("Lê Thị An", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"):
                ["không", None, "345/QĐ-UBND", date(2027, 1, 10)],
            ("Trần Văn Đức", "Chiến sĩ thi đua cơ sở"): ["x", "LĐTT", "12/QĐ-CtyA", "20/12/2026"],
            ("Phòng Kỹ thuật", "Tập thể lao động xuất sắc"): ["có lẽ", None, None, None],
            ("Phạm Văn Bình", "Lao động tiên tiến"): ["Có", None, "7/QĐ", "31/02/2026"],
        },
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.append([None, "0100109106", "Công ty A", None, "Cá nhân", "Người Lạ", None, "LĐTT",
                  None, "Có"])  # fmt: skip
    sheet.append([None, "0312345678", "Công ty Z", None, "Cá nhân", "Ai Đó", None, "LĐTT",
                  None, "Có"])  # fmt: skip
    book.save(path)

    trial = import_results(
        session=session, campaign=campaign, path=path, actor="cli", now=NOW, dry_run=True
    )
    assert not trial.saved and session.exec(select(AwardResult)).all() == []
    report = import_results(session=session, campaign=campaign, path=path, actor="cli", now=NOW)
    session.commit()
    assert report.saved
    assert report.count(Outcome.CREATED) == 3
    refused = {r.name: [p.code for p in r.problems] for r in report.rows if r.problems}
    assert refused["Phòng Kỹ thuật"] == ["result_unclear"]
    assert refused["Phạm Văn Bình"] == ["result_day_unclear"]  # 31 February
    assert refused["Người Lạ"] == ["result_not_proposed"]
    assert refused["Ai Đó"] in (["result_enterprise_unknown"], ["tax_code_checksum"])
    assert report.pending == 2  # the two Hoà rows left empty: no decision yet, not an error
    assert report.touched == {first.id}
    stored = {(r.name, r.proposed_code): r for r in session.exec(select(AwardResult))}
    an = stored[("Lê Thị An", "ldtt")]
    assert (an.recognised, an.conferred_code, an.decision_number) == (True, "ldtt", "12/QĐ-CtyA")
    assert an.decision_date == date(2026, 12, 20) and an.conferred_by == "enterprise"
    refused_bk = stored[("Lê Thị An", "bk_tinh")]
    assert (refused_bk.recognised, refused_bk.conferred_code) == (False, None)
    assert refused_bk.conferred_by == "province" and refused_bk.decision_date == date(2027, 1, 10)
    assert stored[("Trần Văn Đức", "cstdcs")].conferred_code == "ldtt"  # conferred differs

    # the same file again changes nothing; a correction is a change, told again
    again = import_results(session=session, campaign=campaign, path=path, actor="cli", now=NOW)
    assert again.count(Outcome.UNCHANGED) == 3 and again.touched == set()
    _fill(path, {("Phạm Văn Bình", "Lao động tiên tiến"): ["Có", None, "7/QĐ", "30/12/2026"]})
    _fill(path, {("Lê Thị An", "Lao động tiên tiến"): ["Có", None, "13/QĐ-CtyA", "21/12/2026"]})
    fixed = import_results(session=session, campaign=campaign, path=path, actor="cli", now=NOW)
    session.commit()
    assert fixed.count(Outcome.CREATED) == 1 and fixed.count(Outcome.UPDATED) == 1
    assert fixed.touched == {first.id, second.id}


def test_namesakes_are_told_apart_by_their_post_never_guessed(
    session: Session, tmp_path: Path
) -> None:
    campaign, _first, _second = _world(session)
    path = tmp_path / "ket-qua.xlsx"
    export_results(session=session, campaign=campaign, path=path)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=6):
        if row[5].value == "Nguyễn Thị Hoà":
            row[9].value = "Có"
            if row[6].value == "Tổ trưởng":
                row[5].value = "Nguyễn Thị Hòa"  # another tone placement: the same person
            else:
                row[6].value = None  # the post erased: which Hoà is it?
    book.save(path)
    report = import_results(session=session, campaign=campaign, path=path, actor="cli", now=NOW)
    assert report.count(Outcome.CREATED) == 1
    assert [p.code for r in report.rows for p in r.problems] == ["result_namesakes"]
    (kept,) = session.exec(select(AwardResult)).all()
    assert kept.position == "Tổ trưởng"


def test_the_enterprise_is_told_its_results_with_the_decisions(
    session: Session, tmp_path: Path
) -> None:
    campaign, first, _second = _world(session)
    assert first.id is not None
    contact = registry.add_contact(session=session, full_name="Hà", enterprise=first, now=NOW)
    assert contact.id is not None
    links.link_chat(conn=session.connection(), contact_id=contact.id, channel="zalo",
                    chat_id="z1", now=NOW)  # fmt: skip
    path = tmp_path / "ket-qua.xlsx"
    export_results(session=session, campaign=campaign, path=path)
    _fill(path, {
        ("Lê Thị An", "Lao động tiên tiến"): ["Có", None, "12/QĐ-CtyA", "20/12/2026"],
        ("Trần Văn Đức", "Chiến sĩ thi đua cơ sở"): ["Có", None, "12/QĐ-CtyA", "20/12/2026"],
        ("Lê Thị An", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"):
            ["Không", None, "345/QĐ-UBND", "10/01/2027"],
    })  # fmt: skip
    report = import_results(session=session, campaign=campaign, path=path, actor="cli", now=NOW)
    assert results.notify(session, campaign, report.touched, NOW) == 1
    session.commit()
    (notice,) = session.exec(select(Delivery).where(Delivery.kind == "results")).all()
    assert (notice.channel, notice.chat_id, notice.enterprise_id) == ("zalo", "z1", first.id)
    found = results.standing(session, campaign, first.id)
    assert (found.proposed, found.recognised, found.refused, found.pending) == (6, 2, 1, 3)
    with use_language("vi"):
        text = "\n".join(standing_lines(campaign.regime, 2026, first.name, found))
    assert "2 trên 6 đề nghị được công nhận, 1 không được công nhận, 3 đang chờ" in text
    assert "Quyết định số 12/QĐ-CtyA ngày 20/12/2026 (Giám đốc doanh nghiệp)" in text
    assert "Quyết định số 345/QĐ-UBND ngày 10/01/2027 (Chủ tịch UBND tỉnh)" in text


def _recognise(
    session: Session, campaign: Campaign, enterprise: Enterprise, name: str, code: str,
    position: str | None = None,
) -> None:  # fmt: skip
    assert enterprise.id is not None
    proposal = results.Proposal(
        enterprise.id, enterprise.tax_code, enterprise.name, "DK-x", P, name, position, code
    )
    decision = results.Decision(True, code, "1/QĐ", date(campaign.year, 12, 20),
                                results.default_conferrer(code))  # fmt: skip
    results.record(session, campaign, proposal, decision, actor="cli", now=NOW)


def test_past_awards_are_found_across_years_and_feed_the_rules_that_need_them(
    session: Session,
) -> None:
    earlier = {year: _campaign(session, year) for year in (2024, 2025)}
    campaign = _campaign(session, 2026)
    company = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A", now=NOW
    )
    other = registry.add_enterprise(
        session=session, tax_code="0101243150", name="Công ty B", now=NOW
    )
    for year in (2024, 2025):
        _recognise(session, earlier[year], company, "Nguyễn Thị Hoà", "cstdcs", "Kỹ sư")
    _recognise(session, earlier[2025], company, "Trần Văn Đức", "cstdcs")
    _recognise(session, earlier[2025], other, "Nguyễn Thị Hòa", "ldtt")  # another enterprise
    session.commit()

    found = results.lookup(session, "nguyen thi hoa")  # typed without accents
    assert {(a.enterprise, a.year, a.code) for a in found} == {
        ("Công ty A", 2024, "cstdcs"), ("Công ty A", 2025, "cstdcs"), ("Công ty B", 2025, "ldtt"),
    }  # fmt: skip
    with use_language("vi"):
        text = "\n".join(past_lines(found, campaign.regime))
    assert "• Nguyễn Thị Hoà, Kỹ sư (cá nhân) — Công ty A, MST 0100109106" in text
    assert "2025: CSTĐCS — Quyết định số 1/QĐ ngày 20/12/2025" in text

    assert company.id is not None
    history = results.history(session, company.id, 2026)
    rows = [
        registrations.validate(campaign.regime, row)
        for row in (
            NomineeInput(P, "Nguyễn Thị Hòa", "CSTĐ tỉnh", position="Kỹ sư",
                         initiative="Sáng kiến B"),
            NomineeInput(P, "Trần Văn Đức", "CSTĐ tỉnh", initiative="Sáng kiến C"),
            NomineeInput(P, "Lê Văn Tâm", "LĐTT", award="BK tỉnh"),
        )
    ]  # fmt: skip
    nominees = [Nominee(registration_id=0, **row) for row in rows]  # type: ignore[arg-type]
    warnings = registration_rules.check(campaign.regime, nominees, history, 2026)
    by_code = {w.code: w for w in warnings}
    assert "Nguyễn Thị Hòa" not in str([w.params for w in warnings])  # 2024 and 2025 on record
    assert by_code["cstd_tinh_history"].params == {
        "name": "Trần Văn Đức", "years": "2025", "needed": "2024, 2025",
    }  # fmt: skip
    assert "Quyết định 86/2025" in by_code["cstd_tinh_history"].basis
    assert by_code["bk_tinh_history"].params["name"] == "Lê Văn Tâm"

    # a year whose results were never entered is said, not taken for "not awarded"
    history = results.history(session, company.id, 2027)
    later = registration_rules.check(campaign.regime, nominees[:1], history, 2027)
    assert [w.code for w in later] == ["history_not_recorded"]
    assert later[0].params["years"] == "2026"


def test_namesakes_in_past_years_are_shown_as_ambiguous(session: Session) -> None:
    earlier = _campaign(session, 2025)
    _campaign(session, 2026)
    company = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A", now=NOW
    )
    _recognise(session, earlier, company, "Nguyễn Văn An", "cstdcs", "Tổ trưởng")
    _recognise(session, earlier, company, "Nguyễn Văn An", "ldtt", "Thủ kho")
    session.commit()
    assert company.id is not None
    history = results.history(session, company.id, 2026)
    awards, ambiguous = history.of(P, "Nguyễn Văn An", "Bảo vệ")
    assert ambiguous and len(awards) == 2
    awards, ambiguous = history.of(P, "Nguyễn Văn An", "Tổ trưởng")
    assert not ambiguous and [a.code for a in awards] == ["cstdcs"]


def test_a_workbook_of_another_year_is_refused_whole(session: Session, tmp_path: Path) -> None:
    campaign, _first, _second = _world(session)
    path = tmp_path / "ket-qua.xlsx"
    export_results(session=session, campaign=campaign, path=path)
    _fill(path, {("Lê Thị An", "Lao động tiên tiến"): ["Có", None, "1/QĐ", "20/12/2026"]})
    later = _campaign(session, 2027)
    with pytest.raises(TableFileError) as other:
        import_results(session=session, campaign=later, path=path, actor="cli", now=NOW)
    assert other.value.code == "results_other_year"
    assert other.value.params == {"year": 2026, "campaign": 2027}
    assert session.exec(select(AwardResult)).all() == []


def test_a_contacts_workbook_cannot_confer_what_the_province_decides(
    session: Session, tmp_path: Path
) -> None:
    campaign, first, _second = _world(session)
    assert first.id is not None
    path = tmp_path / "own.xlsx"
    assert export_results(session=session, campaign=campaign, path=path, enterprise_id=first.id,
                          conferrer=Conferrer.ENTERPRISE) == 4  # fmt: skip
    _fill(path, {
        ("Lê Thị An", "Lao động tiên tiến"): ["Có", "CSTĐ tỉnh", "1/QĐ", "20/12/2026"],
        ("Trần Văn Đức", "Chiến sĩ thi đua cơ sở"): ["Có", None, "1/QĐ", "20/12/2026"],
    })  # fmt: skip
    report = import_results(
        session=session, campaign=campaign, path=path, actor="c", now=NOW,
        enterprise_id=first.id, conferrer=Conferrer.ENTERPRISE,
    )  # fmt: skip
    assert [p.code for r in report.rows for p in r.problems] == ["result_decided_elsewhere"]
    assert [(r.name, r.conferred_by) for r in session.exec(select(AwardResult))] == [
        ("Trần Văn Đức", "enterprise")
    ]


def test_past_awards_of_another_enterprise_do_not_count_as_records(session: Session) -> None:
    earlier = _campaign(session, 2025)
    company = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    other = registry.add_enterprise(session=session, tax_code="0101243150", name="B", now=NOW)
    _recognise(session, earlier, other, "Ai Đó", "ldtt")
    session.commit()
    assert company.id is not None and other.id is not None
    assert results.history(session, company.id, 2026).recorded_years == set()
    assert results.history(session, other.id, 2026).recorded_years == {2025}


@pytest.mark.parametrize(
    ("regime", "cited"),
    [("nd91-2017", "91/2017"), ("nd98-2023", "98/2023"), ("nd152-2025", "86/2025")],
)
def test_the_rules_that_need_earlier_years_hold_in_every_regime(
    session: Session, regime: str, cited: str
) -> None:
    earlier = _campaign(session, 2025)
    company = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    _recognise(session, earlier, company, "Trần Văn Đức", "cstdcs")
    session.commit()
    assert company.id is not None
    rows = [
        Nominee(registration_id=0, **registrations.validate(regime, row))  # type: ignore[arg-type]
        for row in (
            NomineeInput(P, "Trần Văn Đức", "CSTĐ tỉnh", initiative="S"),
            NomineeInput(P, "Lê Văn Tâm", "LĐTT", award="BK tỉnh"),
        )
    ]
    history = results.history(session, company.id, 2026)
    found = {w.code: w for w in registration_rules.check(regime, rows, history, 2026)}
    assert found["history_not_recorded"].params["years"] == "2024"  # Đức: 2024 never entered
    assert cited in found["history_not_recorded"].basis
    assert found["bk_tinh_history"].params["name"] == "Lê Văn Tâm"  # 2025 on record, no CSTĐCS
    assert cited.split("/")[0] in found["bk_tinh_history"].basis


def test_a_written_basis_answers_what_the_records_cannot(session: Session) -> None:
    company = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    _campaign(session, 2025)
    session.commit()
    assert company.id is not None
    regime = "nd152-2025"
    rows = [
        Nominee(registration_id=0, **registrations.validate(regime, row))  # type: ignore[arg-type]
        for row in (
            NomineeInput(P, "Trần Văn Đức", "CSTĐ tỉnh", initiative="S",
                         basis="CSTĐCS 2023, 2024, 2025"),
            NomineeInput(P, "Lê Văn Tâm", "LĐTT", award="BK tỉnh", basis="thành tích đột xuất"),
            NomineeInput(C, "Phòng A", "Cờ thi đua của UBND tỉnh", basis="dẫn đầu Cụm số 3"),
            NomineeInput(P, "Ai Khác", "CSTĐ tỉnh", initiative="S"),
        )
    ]  # fmt: skip
    history = results.history(session, company.id, 2026)
    found = registration_rules.check(regime, rows, history, 2026)
    assert [(w.code, w.params.get("name")) for w in found] == [
        ("history_not_recorded", "Ai Khác")
    ]  # the others' basis is written: the board reads it with the row
