"""The dossier upward: the tờ trình filled from the template (opened and read here) with the
counts per title and form and the legal basis, and the list it covers; both databases."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from docx import Document
from sqlmodel import Session

from bot.cli import main
from storage import campaigns, dossier, registrations, registry, reviews
from storage.engine import make_engine, session_for
from storage.models import Campaign, Enterprise, NomineeKind, Regime, ReviewState
from storage.registrations import NomineeInput
from tests.conftest import NOW
from tests.factories import submit_registration

P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _approve(session: Session, campaign: Campaign, enterprise: Enterprise) -> None:
    latest = registrations.latest_submitted(
        session=session, campaign=campaign, enterprise=enterprise
    )
    assert latest is not None
    reviews.set_review(session=session, submission=latest, state=ReviewState.APPROVED,
                       comment=None, reviewer=None, now=NOW)  # fmt: skip


def _world(session: Session) -> Campaign:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban Quản lý các KCN tỉnh Bắc Ninh", now=NOW,
        tz=TZ, regime=Regime.ND152_2025,
    )  # fmt: skip
    first = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A & B <Việt Nam>", now=NOW
    )
    second = registry.add_enterprise(
        session=session, tax_code="0101243150", name="Công ty Sao Mai", now=NOW
    )
    third = registry.add_enterprise(
        session=session, tax_code="0101245486", name="Công ty Chưa Duyệt", now=NOW
    )
    submit_registration(
        session, campaign, first,
        NomineeInput(P, "Lê Thị An", "LĐTT", award="BK tỉnh"),
        NomineeInput(P, "Trần Văn Đức", "CSTĐ tỉnh", initiative="Sáng kiến A"),
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐXS", award="BK tỉnh"),
        NomineeInput(C, "Công ty A & B", "TT LĐXS"),
        now=NOW,
    )  # fmt: skip
    submit_registration(
        session, campaign, second,
        NomineeInput(P, "Phạm Văn Bình", "CSTĐCS", award="BK tỉnh", initiative="Sáng kiến B"),
        NomineeInput(C, "Phân xưởng 1", "TT LĐTT"),
        now=NOW,
    )  # fmt: skip
    alone = NomineeInput(P, "Ai Đó", "LĐTT", award="BK tỉnh")
    submit_registration(session, campaign, third, alone, now=NOW)
    _approve(session, campaign, first)
    _approve(session, campaign, second)
    session.commit()
    return campaign


def _text(path: Path) -> str:
    document = Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def test_the_dossier_counts_what_goes_upward_with_its_legal_basis(
    session: Session, tmp_path: Path
) -> None:
    campaign = _world(session)
    covered = dossier.write_dossier(
        session=session, campaign=campaign, path=tmp_path / "to-trinh.docx",
        list_path=tmp_path / "danh-sach.xlsx", made_on=date(2026, 12, 8),
    )  # fmt: skip
    assert covered.left_out == 1  # the third list is not approved
    text = _text(tmp_path / "to-trinh.docx")
    assert "BAN QUẢN LÝ CÁC KCN TỈNH BẮC NINH" in text
    assert "Bắc Ninh, ngày 08 tháng 12 năm 2026" in text
    assert "Về việc đề nghị khen thưởng phong trào thi đua năm 2026" in text
    assert "Căn cứ Nghị định số 152/2025/NĐ-CP" in text
    assert "Căn cứ Quyết định số 86/2025/QĐ-UBND" in text
    assert "{{" not in text and "{%" not in text
    # province-level only: LĐTT, CSTĐCS and TT LĐTT are the directors' own
    assert "1 | Chiến sĩ thi đua cấp tỉnh | 1 | - | 1" in text
    assert "2 | Tập thể lao động xuất sắc | - | 2 | 2" in text
    assert "3 | Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh | 2 | 1 | 3" in text
    assert " | Tổng cộng | 3 | 3 | 6" in text
    assert "khen thưởng 6 lượt (3 lượt cá nhân, 3 lượt tập thể) cho 2 doanh nghiệp" in text
    assert "Kính gửi: Chủ tịch Ủy ban nhân dân tỉnh (qua Sở Nội vụ)." in text
    assert "kính trình Chủ tịch Ủy ban nhân dân tỉnh xem xét" in text
    assert "Lao động tiên tiến" not in text and "Ai Đó" not in text
    book = openpyxl.load_workbook(tmp_path / "danh-sach.xlsx")
    people = [r for r in book["Cá nhân"].iter_rows(min_row=5, values_only=True)]
    assert [(r[1], r[3], r[5]) for r in people[:3]] == [
        ("Lê Thị An", "Công ty A & B <Việt Nam>", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"),
        ("Trần Văn Đức", "Công ty A & B <Việt Nam>", "Chiến sĩ thi đua cấp tỉnh"),
        ("Phạm Văn Bình", "Công ty Sao Mai", "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"),
    ]
    assert people[3][1] == "Tổng cộng: 3"
    assert book["Tập thể"].freeze_panes == "C5"

    every = dossier.upward(session, campaign, approved_only=False)
    assert (every.left_out, every.individuals, every.enterprises) == (0, 4, 3)


def test_the_board_edits_the_template_without_code(session: Session, tmp_path: Path) -> None:
    campaign = _world(session)
    template = tmp_path / "mau.docx"
    dossier.write_template(template)
    edited = Document(str(template))
    edited.add_paragraph("Ghi chú của Ban: {{ enterprises }} doanh nghiệp, năm {{ year }}.")
    edited.save(str(template))
    dossier.write_dossier(
        session=session, campaign=campaign, path=tmp_path / "out.docx",
        list_path=tmp_path / "out.xlsx", made_on=date(2026, 12, 8), template=template,
        place="Bắc Giang",
    )  # fmt: skip
    text = _text(tmp_path / "out.docx")
    assert "Ghi chú của Ban: 2 doanh nghiệp, năm 2026." in text
    assert "Bắc Giang, ngày 08 tháng 12 năm 2026" in text


def test_the_dossier_from_the_command_line(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("THIDUA_")]:
        monkeypatch.delenv(key)
    assert main(["db", "upgrade"], clock=lambda: NOW) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'thidua.sqlite3'}")
    with session_for(engine) as session:
        _world(session)
    assert main(["export", "dossier-template", "mau.docx"], clock=lambda: NOW) == 0
    template = Document("mau.docx")
    template.add_paragraph("Mẫu của Ban {{ year }}")
    template.save("mau.docx")
    monkeypatch.setenv("THIDUA_DOSSIER_TEMPLATE", str(tmp_path / "mau.docx"))
    capsys.readouterr()
    assert main(["export", "dossier", "to-trinh.docx"], clock=lambda: NOW) == 0
    out = capsys.readouterr().out
    assert "to-trinh-danh-sach.xlsx" in out
    assert "1 doanh nghiệp có danh sách chưa được duyệt" in out
    assert "Mẫu của Ban 2026" in _text(tmp_path / "to-trinh.docx")
    assert main(["export", "dossier", "all.docx", "--all-submitted"], clock=lambda: NOW) == 0
    people = openpyxl.load_workbook(tmp_path / "all-danh-sach.xlsx")["Cá nhân"]
    assert "Ai Đó" in [r[1] for r in people.iter_rows(min_row=5, values_only=True)]
