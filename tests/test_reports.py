"""Reports in storage: numbers as typed, documents by content, versions; SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from storage import campaigns, files, registry, reports
from storage.files import FileRefused
from storage.models import MilestoneKind, StoredFile
from storage.report_figures import (
    FIGURES,
    FigureError,
    check_form,
    figures_for,
    parse_amount,
    read_figure,
)
from storage.versions import SubmissionError
from tests.conftest import NOW
from tests.factories import docx_bytes, ole_bytes, pdf_bytes

BY_KEY = {f.key: f for f in FIGURES}


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.250.000.000", 1_250_000_000), ("1,25 tỷ", 1_250_000_000), ("12 triệu", 12_000_000),
        ("850tr", 850_000_000), ("1,250", 1250), ("1.5 tỷ", 1_500_000_000), ("2 tỉ", 2 * 10**9),
        ("3.000.000 đ", 3_000_000), ("-3,5 tỷ", -3_500_000_000), ("1.250,5", Decimal("1250.5")),
        ("12 TRIỆU", 12_000_000), ("500 nghìn", 500_000), ("7k", 7000), ("  42  ", 42),
        ("12tr5", 12_500_000), ("1tỷ2", 1_200_000_000), ("1 tỷ 25", None),
        ("2 tỷ 300 triệu", 2_300_000_000), ("1 tỷ 250 triệu 500 nghìn", 1_250_500_000),
        ("12 triệu/tháng", 12_000_000), ("12.000.000 đ/người/tháng", 12_000_000),
        ("1 250 000", 1_250_000), ("1.500 triệu", 1_500_000_000), ("2.500tr", 2_500_000_000),
        ("12.500 nghìn", 12_500_000), ("5 triệu đồng", 5_000_000), ("3.000.000 đồng", 3_000_000),
        ("1,250 tỷ", 1_250_000_000), ("120 triệu/năm", None), ("1 triệu mốt", None),
    ],
)  # fmt: skip
def test_amounts_are_read_the_way_people_type_them(typed: str, value: object) -> None:
    if value is None:  # "1 tỷ 25": 25 of what? asked again rather than guessed
        with pytest.raises(FigureError):
            parse_amount(typed)
        return
    assert parse_amount(typed) == Decimal(value)  # type: ignore[arg-type]


def test_counts_are_read_with_their_nouns_and_refused_with_count_examples() -> None:
    assert read_figure(BY_KEY["workers_total"], "1.250 người", {}) == 1250
    assert read_figure(BY_KEY["accidents"], "3 vụ", {}) == 3
    with pytest.raises(FigureError) as money:
        read_figure(BY_KEY["workers_total"], "12 triệu", {})
    assert money.value.code == "figure_not_count"


def test_the_whole_form_is_checked_with_kept_values() -> None:
    kept = {"workers_total": 500, "workers_female": 850, "awards_ldtt": 450,
            "awards_cstdcs": 100, "income_avg": "10000000", "revenue": "1000000000"}  # fmt: skip
    found = {(f.key, f.code, f.blocking) for f in check_form(MilestoneKind.REPORT, kept)}
    assert found == {
        ("workers_female", "figure_female_over_total", True),
        ("awards_ldtt", "figure_awards_over_workers", True),
        ("income_avg", "figure_wages_over_revenue", False),  # 60 tỷ of wages on 1 tỷ revenue
    }
    fine = {**kept, "workers_female": 300, "awards_ldtt": 300, "revenue": "100000000000"}
    assert check_form(MilestoneKind.REPORT, fine) == []
    assert [f.code for f in check_form(MilestoneKind.REPORT, {"accidents": -1})] == [
        "figure_negative"
    ]


@pytest.mark.parametrize(
    "typed", ["abc", "12 cái", "", "10^15", "một tỷ", "1..2.3,,4,5", "2 tỷ 300", "3 triệu 2 tỷ"]
)
def test_text_is_not_a_number(typed: str) -> None:
    with pytest.raises(FigureError) as caught:
        parse_amount(typed)
    assert caught.value.code == "figure_not_number"


def test_figures_are_checked_against_their_bounds_and_each_other() -> None:
    with pytest.raises(FigureError) as absurd:
        read_figure(BY_KEY["income_avg"], "1000000000000000", {})
    assert absurd.value.code == "figure_too_large"
    with pytest.raises(FigureError) as negative:
        read_figure(BY_KEY["revenue"], "-5 tỷ", {})
    assert negative.value.code == "figure_negative"
    assert read_figure(BY_KEY["profit"], "-5 tỷ", {}) == "-5000000000"  # a loss is fine
    with pytest.raises(FigureError) as fraction:
        read_figure(BY_KEY["workers_total"], "12,5", {})
    assert fraction.value.code == "figure_not_whole"
    with pytest.raises(FigureError) as women:
        read_figure(BY_KEY["workers_female"], "600", {"workers_total": 500})
    assert women.value.code == "figure_female_over_total"
    assert read_figure(BY_KEY["workers_female"], "1.200", {"workers_total": 1500}) == 1200
    assert len(figures_for(MilestoneKind.MIDYEAR)) < len(figures_for(MilestoneKind.REPORT))


def test_documents_are_judged_by_content_and_kept_once(session: Session, tmp_path: Path) -> None:
    root = tmp_path / "files"
    samples = {"pdf": pdf_bytes(), "docx": docx_bytes(), "doc": ole_bytes()}
    for kind, content in samples.items():
        (tmp_path / "in").write_bytes(content)
        stored = files.store_document(session=session, source=tmp_path / "in", root=root, now=NOW)
        assert stored.content_type == kind
        assert files.path_of(stored, root).read_bytes() == content
    (tmp_path / "again").write_bytes(samples["pdf"])
    files.store_document(session=session, source=tmp_path / "again", root=root, now=NOW)
    assert len(session.exec(select(StoredFile)).all()) == 3  # the same bytes are kept once
    assert not (tmp_path / "again").exists()
    jar = io.BytesIO()  # a .jar (or any zip) with a word/document.xml put in
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Main-Class: X")
        archive.writestr("word/document.xml", "<w:document/>")
    polyglot = b"%PDF-1.7\n<html><script>alert(1)</script></html>\n%%EOF"
    macro = docx_bytes(content_type="application/vnd.ms-word.document.macroEnabled.main+xml")
    for content, code in ((b"MZ\x90\x00 this is an exe", "document_type"), (b"", "document_empty"),
                          (b"PK\x03\x04 zip but not word", "document_type"),
                          (jar.getvalue(), "document_type"), (polyglot, "document_type"),
                          (ole_bytes("SummaryInformation"), "document_type"),  # an .msi
                          (ole_bytes(head=b"MZ"), "document_type"), (macro, "document_type"),
                          (pdf_bytes()[:-300], "document_type")):  # fmt: skip
        (tmp_path / "bad").write_bytes(content)
        with pytest.raises(FileRefused) as caught:
            files.store_document(session=session, source=tmp_path / "bad", root=root, now=NOW)
        assert caught.value.code == code
        assert not (tmp_path / "bad").exists()


def test_reports_become_versions_only_when_complete(session: Session, tmp_path: Path) -> None:
    campaign = campaigns.create_campaign(
        session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
    )
    enterprise = registry.add_enterprise(session=session, tax_code="0100109106", name="A", now=NOW)
    draft = reports.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, kind=MilestoneKind.MIDYEAR,
        now=NOW, contact_id=None,
    )  # fmt: skip
    for figure in figures_for(MilestoneKind.MIDYEAR):
        reports.set_figure(
            session=session, report=draft, key=figure.key, value=1, now=NOW, contact_id=None
        )
    assert reports.missing(draft, session=session) == ["signed"]
    with pytest.raises(SubmissionError) as incomplete:
        reports.submit(
            session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
            now=NOW, contact_id=None,
        )  # fmt: skip
    assert incomplete.value.code == "report_incomplete"
    (tmp_path / "r.pdf").write_bytes(pdf_bytes())
    stored = files.store_document(
        session=session, source=tmp_path / "r.pdf", root=tmp_path, now=NOW
    )
    reports.attach(
        session=session, report=draft, stored=stored, signed=True, name="bao cao.pdf",
        channel="telegram", channel_file_id="tg-1", now=NOW, contact_id=None,
    )  # fmt: skip
    done = reports.submit(
        session=session, draft=draft, campaign=campaign, expected_revision=draft.revision,
        now=NOW, contact_id=None,
    )  # fmt: skip
    assert done.reference == "SK-2026-0001"
    again = reports.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, kind=MilestoneKind.MIDYEAR,
        now=NOW, contact_id=None,
    )  # fmt: skip
    assert again.version == 2 and again.figures == done.figures
    assert [d.channel_file_id for d in reports.documents(session=session, report=again)] == ["tg-1"]


def test_a_download_cut_short_is_swept_at_the_next_start(tmp_path: Path) -> None:
    """Was: a kill mid-upload left a partial file in data/incoming forever."""
    import os
    from datetime import timedelta

    from storage.files import sweep_scratch

    folder = tmp_path / "incoming"
    folder.mkdir()
    old, fresh = folder / ".part-1", folder / "2"
    old.write_bytes(b"half a workbook")
    fresh.write_bytes(b"being written now")
    an_hour_ago = (NOW - timedelta(hours=2)).timestamp()
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(fresh, (NOW.timestamp(), NOW.timestamp()))
    assert sweep_scratch(folder, NOW, timedelta(hours=1)) == 1
    assert [p.name for p in folder.iterdir()] == ["2"]
    assert sweep_scratch(tmp_path / "missing", NOW, timedelta(hours=1)) == 0
