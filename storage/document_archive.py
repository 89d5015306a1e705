"""The zip of the year-end report documents the board sends upward, each named for a person
to find it ("<MST> <enterprise> <receipt>.pdf"), with an index sheet."""

from __future__ import annotations

import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import Session, col, select

from storage.exports import (
    REVIEW_WORDS,
    SCOPE_NOTE,
    enterprises_in_order,
    latest_reports,
    made_words,
)
from storage.files import path_of
from storage.models import Campaign, Enterprise, MilestoneKind, Report, ReportDocument, StoredFile
from storage.xlsx import header_row, set_widths, text_cell, whole_file, whole_workbook, writable

_NOT_IN_NAMES = str.maketrans({ch: " " for ch in '/\\:*?"<>|'})


def _file_label(text: str) -> str:
    """An enterprise's name as it can stand in a file name on any system."""
    return " ".join(writable(text).translate(_NOT_IN_NAMES).split())[:80]


@dataclass(frozen=True)
class Document:
    """One report document in the archive, with what its index sheet says of it."""

    name: str  # in the archive: "<MST> <tên DN> <receipt>.pdf"
    path: Path
    enterprise: Enterprise
    zone: str
    report: Report
    signed: bool


def report_documents(*, session: Session, campaign: Campaign, root: Path) -> Iterator[Document]:
    """Every current report document, named for a person to find it."""
    latest = latest_reports(session, campaign, MilestoneKind.REPORT)
    enterprises = {e.id: (e, z) for e, z in enterprises_in_order(session, set(latest))}
    rows = session.exec(
        select(Report, ReportDocument, StoredFile)
        .join(ReportDocument, col(ReportDocument.report_id) == col(Report.id))
        .join(StoredFile, col(StoredFile.id) == col(ReportDocument.file_id))
        .where(col(Report.id).in_(set(latest.values())))
        .where(col(StoredFile.removed_at).is_(None))  # gone under the retention setting
        .order_by(col(ReportDocument.signed).desc(), col(ReportDocument.id))
    ).all()
    extra: Counter[int] = Counter()
    for report, document, stored in rows:
        enterprise, zone = enterprises[report.enterprise_id]
        receipt = report.reference or f"v{report.version}"
        stem = f"{enterprise.tax_code} {_file_label(enterprise.name)} {receipt}"
        if not document.signed:
            extra[report.enterprise_id] += 1
            stem += f" kem theo {extra[report.enterprise_id]}"
        yield Document(
            f"{stem}.{stored.content_type}", path_of(stored, root), enterprise,
            zone.name if zone else "", report, document.signed,
        )  # fmt: skip


INDEX_NAME = "danh-muc-tai-lieu.xlsx"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")  # the zones' time, unless the caller's settings say else


def zip_documents(
    *, session: Session, campaign: Campaign, root: Path, path: Path, made_on: date | None = None,
    tz: ZoneInfo = LOCAL,
) -> int:  # fmt: skip
    """A zip of every current report document with an index sheet (enterprise, zone, receipt,
    time, review state, file name); returns the number of documents."""
    documents = [
        d for d in report_documents(session=session, campaign=campaign, root=root)
        if d.path.is_file()
    ]  # fmt: skip
    with (
        whole_file(path) as part,
        zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        tempfile.TemporaryDirectory() as scratch,
    ):
        index = Path(scratch) / INDEX_NAME
        _index_sheet(index, campaign, documents, made_on, tz)
        archive.write(index, arcname=INDEX_NAME)
        for document in documents:
            archive.write(document.path, arcname=document.name)
    return len(documents)


def _index_sheet(
    path: Path, campaign: Campaign, documents: list[Document], made_on: date | None, tz: ZoneInfo
) -> None:
    """The archive's table of contents, as a clerk filters it."""
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        sheet = book.create_sheet("Danh mục")
        sheet.freeze_panes = "A6"
        set_widths(sheet, (6, 36, 13, 20, 15, 18, 16, 12, 60))
        sheet.append(
            [text_cell(sheet, f"DANH MỤC TÀI LIỆU BÁO CÁO NĂM {campaign.year}", bold=True)]
        )
        sheet.append([text_cell(sheet, campaign.board_name)])
        sheet.append([text_cell(sheet, SCOPE_NOTE)])
        sheet.append([text_cell(sheet, made_words(made_on))])
        sheet.append(header_row(sheet, (
            "STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
            "Thời điểm nộp", "Trạng thái", "Loại", "Tên tệp",
        )))  # fmt: skip
        for number, d in enumerate(documents, start=1):
            when = d.report.submitted_at
            sheet.append([
                number, *[text_cell(sheet, v) for v in (
                    d.enterprise.name, d.enterprise.tax_code, d.zone, d.report.reference or "",
                    f"{when.astimezone(tz):%H:%M %d/%m/%Y}" if when else "",
                    REVIEW_WORDS.get(d.report.review_state, d.report.review_state),
                    "Báo cáo đã ký" if d.signed else "Kèm theo", d.name,
                )],
            ])  # fmt: skip
        if documents:
            sheet.auto_filter.ref = f"A5:I{5 + len(documents)}"
        sheet.append([None, text_cell(sheet, f"Tổng cộng: {len(documents)} tệp", bold=True)])
