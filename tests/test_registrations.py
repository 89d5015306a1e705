"""Registrations in storage on SQLite and PostgreSQL: drafts, versions, rules of both regimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session

from storage import campaigns, registration_rules, registrations, registry
from storage.models import Campaign, Enterprise, MilestoneKind, Nominee, NomineeKind, Regime
from storage.registration_sheet import read_form, write_template
from storage.registrations import NomineeInput, SubmissionError
from storage.tabular import TableFileError
from storage.text import vi_name_key
from tests.conftest import NOW

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE


def _setup(session: Session, regime: Regime = Regime.ND152_2025) -> tuple[Campaign, Enterprise]:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=HCM, regime=regime
    )
    enterprise = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    return campaign, enterprise


def _add(session: Session, draft, campaign: Campaign, *rows: NomineeInput) -> None:  # type: ignore[no-untyped-def]
    for row in rows:
        registrations.add_nominee(
            session=session, draft=draft, regime=campaign.regime, row=row, now=NOW, contact_id=None
        )


def test_drafts_become_versions_and_versions_are_kept(session: Session) -> None:
    campaign, enterprise = _setup(session)
    draft = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
    )
    _add(session, draft, campaign, NomineeInput(P, "Nguyễn Thị Hoà", "LĐTT"))
    first = registrations.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
        now=NOW, contact_id=None,
    )  # fmt: skip
    assert (first.version, first.reference) == (1, "DK-2026-0001")
    again = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
    )
    assert again.version == 2 and again.id != first.id
    assert [n.name for n in registrations.nominees(session=session, registration=again)] == [
        "Nguyễn Thị Hoà"
    ]
    _add(session, again, campaign, NomineeInput(C, "Phòng Kỹ thuật", "Tập thể lao động tiên tiến"))
    second = registrations.submit(
        session=session, draft=again, campaign=campaign, expected_revision=again.revision,
        now=NOW, contact_id=None,
    )  # fmt: skip
    assert second.reference == "DK-2026-0002"
    assert registrations.count_nominees(session=session, registration=first) == {
        "individual": 1, "collective": 0,
    }  # fmt: skip
    latest = registrations.latest_submitted(
        session=session, campaign=campaign, enterprise=enterprise
    )
    assert latest is not None and latest.version == 2
    assert registrations.enterprises_registered(session=session, campaign=campaign) == 1


def test_a_stale_or_repeated_submit_is_refused(session: Session) -> None:
    campaign, enterprise = _setup(session)
    draft = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
    )
    with pytest.raises(SubmissionError) as empty:
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=0, now=NOW,
            contact_id=None,
        )  # fmt: skip
    assert empty.value.code == "registration_empty"
    _add(session, draft, campaign, NomineeInput(P, "An", "LĐTT"))
    seen = draft.revision
    _add(session, draft, campaign, NomineeInput(P, "Bình", "LĐTT"))
    with pytest.raises(SubmissionError) as changed:
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=seen, now=NOW,
            contact_id=None,
        )  # fmt: skip
    assert changed.value.code == "registration_changed"
    registrations.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
        now=NOW, contact_id=None,
    )  # fmt: skip
    with pytest.raises(SubmissionError) as twice:
        registrations.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=NOW, contact_id=None,
        )  # fmt: skip
    assert twice.value.code == "registration_already_submitted"


@pytest.mark.parametrize(
    ("row", "code"),
    [
        (NomineeInput(P, "", "LĐTT"), "nominee_name_empty"),
        (NomineeInput(P, "12345", "LĐTT"), "nominee_name_no_letters"),
        (NomineeInput(P, "🙂🙂", "LĐTT"), "nominee_name_no_letters"),
        (NomineeInput(P, "A" * 201, "LĐTT"), "nominee_name_too_long"),
        (NomineeInput(P, "An", "Anh hùng lao động"), "title_unknown"),
        (NomineeInput(P, "An", "Tập thể lao động xuất sắc"), "title_wrong_subject"),
        (NomineeInput(C, "Phòng A", "Lao động tiên tiến"), "title_wrong_subject"),
        (NomineeInput(P, "An", "LĐTT", award="Huân chương"), "award_unknown"),
        (NomineeInput(P, "An", "LĐTT", award="Bằng khen"), "award_level_unclear"),  # whose?
        (NomineeInput(P, "An", "LĐTT", award="BK"), "award_level_unclear"),
        (NomineeInput(C, "Phòng A", "Có"), "title_unknown"),  # "Có" is not "Cờ"
    ],
)
def test_absolute_rules_refuse_a_row(row: NomineeInput, code: str) -> None:
    with pytest.raises(SubmissionError) as caught:
        registrations.validate("nd152-2025", row)
    assert caught.value.code == code


def test_titles_are_read_as_forms_write_them() -> None:
    values = registrations.validate(
        "nd152-2025",
        NomineeInput(P, "  Nguyễn  Thị Hoà ", "cstđcs", award="Bằng khen của Chủ tịch UBND tỉnh"),
    )
    assert (values["name"], values["title_code"], values["award_code"]) == (
        "Nguyễn Thị Hoà", "cstdcs", "bk_tinh",
    )  # fmt: skip


def _rows(regime: str, *rows: NomineeInput) -> list[Nominee]:
    built = []
    for row in rows:
        values = registrations.validate(regime, row)
        built.append(Nominee(registration_id=1, **values))  # type: ignore[arg-type]
    return built


def _codes(warnings: list[registration_rules.Warning]) -> list[str]:
    return [w.code for w in warnings]


def test_2020_regime_rules() -> None:
    regime = "nd91-2017"
    people = [NomineeInput(P, f"Người {i}", "LĐTT") for i in range(10)]
    rows = _rows(
        regime, *people, NomineeInput(P, "Chiến A", "CSTĐCS", initiative="Sáng kiến 1"),
        NomineeInput(P, "Chiến B", "CSTĐCS"),
    )  # fmt: skip
    warnings = registration_rules.check(regime, rows)
    assert _codes(warnings) == ["cstdcs_needs_initiative", "cstdcs_ratio"]
    ratio = warnings[1]
    assert ratio.params == {"n": 2, "holders": 12, "percent": 15}
    assert "91/2017" in ratio.basis
    ok = _rows(regime, *people, *people[:5], NomineeInput(P, "Chiến A", "CSTĐCS", initiative="S"))
    assert "cstdcs_ratio" not in _codes(registration_rules.check(regime, ok))  # 1 of 16


def test_current_regime_rules() -> None:
    regime = "nd152-2025"
    rows = _rows(
        regime,
        *[NomineeInput(P, f"Người {i}", "LĐTT") for i in range(3)],
        NomineeInput(P, "Chiến B", "CSTĐCS"),
        NomineeInput(P, "Chiến C", "CSTĐCS"),
    )
    warnings = registration_rules.check(regime, rows)
    assert _codes(warnings) == ["cstdcs_basis"]  # no 15 % cap, and no hard initiative rule
    assert "152/2025" in warnings[0].basis


@pytest.mark.parametrize("regime", ["nd91-2017", "nd98-2023", "nd152-2025"])
def test_excellent_collective_needs_a_cstdcs_and_duplicates_are_folded(regime: str) -> None:
    rows = _rows(
        regime,
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS"),
        NomineeInput(P, "Nguyễn Thị Hoà", "LĐTT"),
        NomineeInput(P, "nguyễn thị hòa", "LĐTT"),
    )
    warnings = registration_rules.check(regime, rows)
    assert _codes(warnings) == ["duplicate_name", "ttldxs_needs_cstdcs"]
    assert warnings[0].params["first"] == "Nguyễn Thị Hoà"


@pytest.mark.parametrize("regime", ["nd91-2017", "nd98-2023", "nd152-2025"])
def test_collective_titles_for_units_and_the_flag_for_a_clusters_leader(regime: str) -> None:
    rows = _rows(
        regime,
        NomineeInput(C, "Công ty TNHH Hoà Bình", "TT LĐTT"),
        NomineeInput(C, "Phân xưởng Lắp ráp", "TT LĐTT"),
        NomineeInput(C, "Tổng công ty May", "Cờ thi đua của UBND tỉnh", award="BK tỉnh"),
        NomineeInput(P, "Chiến A", "CSTĐCS", initiative="S"),
    )
    warnings = {w.code: w for w in registration_rules.check(regime, rows)}
    assert warnings["co_tinh_cluster"].params == {"names": rows[2].name}
    if regime == "nd152-2025":  # Bắc Ninh's QĐ 86/2025, under the current decree only
        assert warnings["ttldtt_for_units"].params == {"names": rows[0].name}
        assert "86/2025" in warnings["ttldtt_for_units"].basis
        assert "Điều 3 khoản 1" in warnings["co_tinh_cluster"].basis
    else:
        assert "ttldtt_for_units" not in warnings
        assert warnings["co_tinh_cluster"].basis


@pytest.mark.parametrize("regime", ["nd91-2017", "nd98-2023", "nd152-2025"])
def test_a_collective_is_judged_by_its_own_people_and_headcount(regime: str) -> None:
    rows = _rows(
        regime,
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS", members=4),
        NomineeInput(C, "Phân xưởng Sơn", "TT LĐXS"),
        NomineeInput(C, "Tổ Bảo vệ", "TT LĐTT", members="10"),
        NomineeInput(P, "Trần Văn Đức", "CSTĐCS", position="Kỹ sư, Phòng Kỹ thuật",
                     initiative="S"),
        NomineeInput(P, "Lê Thị An", "LĐTT", position="Kế toán, phòng kỹ thuật"),
        NomineeInput(P, "Phạm Văn Bình", "LĐTT", position="Thợ sơn, Phân xưởng Sơn"),
        *[NomineeInput(P, f"Bảo Vệ {c}", "LĐTT", position="Tổ bảo vệ") for c in "ABCDE"],
    )  # fmt: skip
    warnings = registration_rules.check(regime, rows)
    by_code = {w.code: w for w in warnings}
    # the workshop has no CSTĐCS of its own, though the enterprise has one
    assert by_code["ttldxs_needs_cstdcs"].params == {"names": rows[1].name}
    # the department: 2 of 4 are LĐTT or better, under the 70 % the title needs
    shares = [w for w in warnings if w.code.startswith("collective_ldtt_share")]
    assert shares[0].params == {"name": rows[0].name, "holders": 2, "members": 4, "percent": 70}
    # the guards: 5 of 10 — not more than half (2020 regime), under 70 % (since)
    guards = shares[1].params
    assert (guards["holders"], guards["members"]) == (5, 10)
    if regime == "nd91-2017":
        assert shares[1].code == "collective_ldtt_share_more" and guards["percent"] == 50
    else:
        assert shares[1].code == "collective_ldtt_share" and guards["percent"] == 70
    if regime == "nd152-2025":
        assert "Điều 3 khoản 2 điểm b" in by_code["ttldxs_needs_cstdcs"].basis
    with pytest.raises(SubmissionError) as bad:
        registrations.validate(regime, NomineeInput(C, "Tổ X", "TT LĐTT", members="mười"))
    assert bad.value.code == "members_invalid"


@pytest.mark.parametrize(
    ("given", "members"),
    [(12, 12), (12.0, 12), ("1.200", 1200), ("1 200", 1200), ("", None), (None, None)],
)
def test_a_headcount_is_a_whole_number(given: object, members: int | None) -> None:
    row = registrations.validate("nd152-2025", NomineeInput(C, "Tổ A", "TT LĐTT", members=given))
    assert row["members"] == members


@pytest.mark.parametrize("given", [12.5, "12.5", "²", "0", "-3", "mười", "1,5"])
def test_a_headcount_that_is_not_one_is_refused(given: object) -> None:
    with pytest.raises(SubmissionError) as bad:
        registrations.validate("nd152-2025", NomineeInput(C, "Tổ A", "TT LĐTT", members=given))
    assert bad.value.code == "members_invalid"


def test_a_unit_is_matched_by_whole_words() -> None:
    rows = _rows(
        "nd152-2025",
        NomineeInput(C, "Tổ 1", "TT LĐXS"),
        NomineeInput(P, "Trần Văn Đức", "CSTĐCS", position="Tổ trưởng, Tổ 12", initiative="S"),
    )
    warnings = registration_rules.check("nd152-2025", rows)
    assert [w.params for w in warnings if w.code == "ttldxs_needs_cstdcs"] == [{"names": "Tổ 1"}]


def test_lists_are_in_vietnamese_order(session: Session) -> None:
    campaign, enterprise = _setup(session)
    draft = registrations.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
    )
    names = ["Trần Văn Đức", "Lê Văn Dũng", "Phạm Thị Ánh", "Bùi Văn An", "Vũ Thị Ăn"]
    _add(session, draft, campaign, *[NomineeInput(P, n, "LĐTT") for n in names])
    listed = [n.name for n in registrations.nominees(session=session, registration=draft)]
    assert listed == ["Bùi Văn An", "Phạm Thị Ánh", "Vũ Thị Ăn", "Lê Văn Dũng", "Trần Văn Đức"]
    assert listed == sorted(names, key=vi_name_key)


def test_extensions_move_one_enterprise_cutoff(session: Session) -> None:
    campaign, enterprise = _setup(session)
    due = registrations.cutoff_for(
        session=session, campaign=campaign, enterprise=enterprise, kind=MilestoneKind.REGISTRATION
    )
    assert due == datetime(2026, 4, 14, 17, tzinfo=UTC)
    later = due + timedelta(days=7)
    registrations.extend(
        session=session, campaign=campaign, enterprise=enterprise,
        kind=MilestoneKind.REGISTRATION, until=later, granted_by="t", now=NOW,
    )  # fmt: skip
    assert (
        registrations.cutoff_for(
            session=session,
            campaign=campaign,
            enterprise=enterprise,
            kind=MilestoneKind.REGISTRATION,
        )
        == later
    )


def test_the_form_roundtrips_and_messy_forms_are_read(tmp_path: Path) -> None:
    regime = "nd152-2025"
    rows = _rows(
        regime,
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS", award="BK tỉnh"),
        NomineeInput(P, "Nguyễn Thị Hoà", "CSTĐCS", position="Kỹ sư", initiative="Cải tiến"),
    )
    stored_before = Nominee(  # saved before names were checked for formulas
        registration_id=1, kind=P.value, name='=HYPERLINK("http://x","y")', title_code="ldtt"
    )
    form = tmp_path / "form.xlsx"
    write_template(
        form, regime=regime, year=2026, enterprise="Công ty A", rows=[*rows, stored_before]
    )
    reading = read_form(form, regime=regime, max_bytes=10**7)
    assert [(e.sheet, e.code) for e in reading.errors] == [("Cá nhân", "nominee_name_formula")]
    assert [r["name"] for r in reading.rows] == ["Nguyễn Thị Hoà", "Phòng Kỹ thuật"]
    # columns reordered and renamed, merged title cells, a section heading and formulas
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DANH SÁCH ĐĂNG KÝ"])
    sheet.merge_cells("A1:E1")
    sheet.append(["Danh hiệu", "Họ tên", "Ghi chú", "Chức vụ", "Khen thưởng"])
    sheet.append(["I. Khối sản xuất"])
    sheet.append(["Lao động tiên tiến", "Lê Văn An", "x", "Công nhân", ""])
    sheet.append(["=A4", "Trần Văn Bình", None, "Tổ trưởng", None])
    sheet.append(["LĐTT", "", None, "Tổ phó", None])
    book.save(tmp_path / "messy.xlsx")
    messy = read_form(tmp_path / "messy.xlsx", regime=regime, max_bytes=10**7)
    assert [r["name"] for r in messy.rows] == ["Lê Văn An"]
    assert [(e.row, e.code) for e in messy.errors] == [
        (5, "title_missing"),  # a formula whose value was never saved
        (6, "nominee_name_empty"),
    ]
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(TableFileError):
        read_form(tmp_path / "x.xlsx", regime=regime, max_bytes=10**7)
    plain = openpyxl.Workbook()
    plain_sheet = plain.active
    assert plain_sheet is not None
    plain_sheet.append(["Họ tên", "Tuổi"])
    plain.save(tmp_path / "plain.xlsx")
    with pytest.raises(TableFileError) as caught:
        read_form(tmp_path / "plain.xlsx", regime=regime, max_bytes=10**7)
    assert caught.value.code == "form_no_header"


def test_twenty_thousand_rows_are_refused_whole(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Cá nhân")
    sheet.append(["Họ và tên", "Danh hiệu thi đua"])
    for index in range(20_000):
        sheet.append([f"Người số {index}", "LĐTT"])
    book.save(tmp_path / "big.xlsx")
    with pytest.raises(TableFileError) as caught:
        read_form(tmp_path / "big.xlsx", regime="nd152-2025", max_bytes=10**8)
    assert caught.value.code == "file_too_many_rows"


def test_the_15_percent_cap_cites_its_article_under_nd_91() -> None:
    rows = [NomineeInput(P, f"Chiến {i}", "CSTĐCS", initiative="Sáng kiến") for i in range(3)]
    rows += [NomineeInput(P, f"Người {i}", "LĐTT") for i in range(7)]
    warnings = registration_rules.check("nd91-2017", _rows("nd91-2017", *rows))
    ratio = next(w for w in warnings if w.code == "cstdcs_ratio")
    assert ratio.basis == "Nghị định 91/2017/NĐ-CP, Điều 9 khoản 3"


def test_a_commendation_alone_is_a_row() -> None:
    values = registrations.validate(
        "nd152-2025",
        NomineeInput(P, "Phạm Văn Chủ", "", award="Bằng khen của Chủ tịch UBND tỉnh"),
    )  # a business owner proposed for the province's Bằng khen, with no emulation title
    assert (values["title_code"], values["award_code"]) == ("", "bk_tinh")
    with pytest.raises(SubmissionError) as caught:
        registrations.validate("nd152-2025", NomineeInput(P, "Phạm Văn Chủ", ""))
    assert caught.value.code == "title_missing"


def test_names_typed_with_a_phones_curly_punctuation_are_names() -> None:
    assert registrations.check_name("h’hen niê") == "H'Hen Niê"
    assert registrations.check_name("Lê‑Văn An") == "Lê-Văn An"


@pytest.mark.parametrize(
    ("regime", "cited"),
    [("nd91-2017", "91/2017"), ("nd98-2023", "98/2023"), ("nd152-2025", "Điều 4 khoản 4")],
)
def test_the_attestation_cites_each_regime(regime: str, cited: str) -> None:
    from bot.flows.registration import attestation_text
    from bot.i18n import use_language

    with use_language("vi"):
        text = attestation_text(regime)
        excellent = attestation_text(regime, excellent=True)
    assert text.startswith("Khi bấm “Xác nhận và nộp”, Anh/Chị cam kết") and cited in text
    assert "hoàn thành nhiệm vụ" not in text and "hoàn thành nhiệm vụ" in excellent
