"""The aggregated lists the board sends upward, laid out like the official forms.

Headings are the forms' own (Vietnamese) wording, so they are form data here, like the
catalogue. Only each enterprise's newest *submitted* version is included; every sheet says so.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import catalogue
from storage.catalogue import BASE_SALARY_VND
from storage.files import path_of
from storage.models import (
    Campaign,
    Enterprise,
    IndustrialZone,
    MilestoneKind,
    Nominee,
    NomineeKind,
    Registration,
    Report,
    ReportDocument,
    StoredFile,
    SubmissionStatus,
)
from storage.report_figures import Figure, figures_for
from storage.text import vi_name_key
from storage.xlsx import safe_row, text_cell, whole_file, whole_workbook

SCOPE_NOTE = (
    "Gồm bản đã nộp mới nhất của mỗi doanh nghiệp, ở mọi trạng thái xem xét (xem cột Trạng thái);"
    " doanh nghiệp chưa nộp không có trong danh sách."
)
REVIEW_WORDS = {"received": "Đã nhận", "has_issues": "Cần bổ sung", "approved": "Đã duyệt",
                "returned": "Trả lại để sửa"}  # fmt: skip


def _newest(rows: list[tuple[int, int, int]]) -> dict[int, int]:
    """enterprise id -> id of its newest version, from (enterprise id, id, version) rows."""
    best: dict[int, tuple[int, int]] = {}
    for enterprise_id, row_id, version in rows:
        if enterprise_id not in best or version > best[enterprise_id][0]:
            best[enterprise_id] = (version, row_id)
    return {enterprise_id: row_id for enterprise_id, (_v, row_id) in best.items()}


def latest_registrations(session: Session, campaign: Campaign) -> dict[int, int]:
    """Each enterprise's newest submitted registration."""
    rows = session.exec(
        select(Registration.enterprise_id, Registration.id, Registration.version).where(
            Registration.campaign_id == campaign.id,
            Registration.status == SubmissionStatus.SUBMITTED,
        )
    ).all()
    return _newest([(e, i or 0, v) for e, i, v in rows])


def latest_reports(session: Session, campaign: Campaign, kind: str) -> dict[int, int]:
    """Each enterprise's newest submitted report of a kind."""
    rows = session.exec(
        select(Report.enterprise_id, Report.id, Report.version).where(
            Report.campaign_id == campaign.id,
            Report.kind == kind,
            Report.status == SubmissionStatus.SUBMITTED,
        )
    ).all()
    return _newest([(e, i or 0, v) for e, i, v in rows])


def _enterprises(session: Session, ids: set[int]) -> list[tuple[Enterprise, IndustrialZone | None]]:
    rows = session.exec(
        select(Enterprise, IndustrialZone)
        .join(IndustrialZone, isouter=True)
        .where(col(Enterprise.id).in_(ids))
    ).all()
    return sorted(rows, key=lambda pair: ((pair[1].name if pair[1] else ""), pair[0].name_key))


def export_registrations(*, session: Session, campaign: Campaign, path: Path) -> dict[str, int]:
    """Writes "Cá nhân", "Tập thể" and "Tổng hợp" sheets; returns counts per title code."""
    latest = latest_registrations(session, campaign)
    states = dict(
        session.exec(
            select(Registration.id, Registration.review_state).where(
                col(Registration.id).in_(set(latest.values()))
            )
        ).all()
    )
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        counts = _registration_sheets(book, session, campaign, latest, states)
    return dict(counts)


def _registration_sheets(
    book: Workbook,
    session: Session,
    campaign: Campaign,
    latest: dict[int, int],
    states: dict[int | None, str],
) -> Counter[str]:
    """The three sheets of the registration list; returns counts per title code."""
    people = book.create_sheet("Cá nhân")
    groups = book.create_sheet("Tập thể")
    heading = f"DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM {campaign.year}"
    for sheet, header in (
        (people, ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Họ và tên",
                  "Chức vụ, đơn vị", "Danh hiệu thi đua", "Hình thức khen thưởng đề nghị",
                  "Tên sáng kiến", "Trạng thái")),
        (groups, ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Tên tập thể",
                  "Danh hiệu thi đua", "Hình thức khen thưởng đề nghị", "Trạng thái")),
    ):  # fmt: skip
        sheet.append([text_cell(sheet, heading, bold=True)])
        sheet.append([text_cell(sheet, campaign.board_name)])
        sheet.append([text_cell(sheet, SCOPE_NOTE)])
        sheet.append([text_cell(sheet, h, bold=True) for h in header])
    counts: Counter[str] = Counter()
    numbers = {NomineeKind.INDIVIDUAL: 0, NomineeKind.COLLECTIVE: 0}
    by_registration: dict[int, list[tuple[str, str, str | None, str, str | None, str | None]]] = {}
    query = (
        sa_select(
            Nominee.__table__.c.registration_id,  # type: ignore[attr-defined]
            Nominee.__table__.c.kind,  # type: ignore[attr-defined]
            Nominee.__table__.c.name,  # type: ignore[attr-defined]
            Nominee.__table__.c.position,  # type: ignore[attr-defined]
            Nominee.__table__.c.title_code,  # type: ignore[attr-defined]
            Nominee.__table__.c.award_code,  # type: ignore[attr-defined]
            Nominee.__table__.c.initiative,  # type: ignore[attr-defined]
        )
        .where(col(Nominee.registration_id).in_(set(latest.values())))
        .order_by(col(Nominee.id))
    )
    for registration_id, *values in session.execute(query):  # plain tuples: 100,000 rows fast
        by_registration.setdefault(registration_id, []).append(tuple(values))
    names = {t.code: t.name for t in catalogue.catalogue(campaign.regime)}
    for enterprise, zone in _enterprises(session, set(latest)):
        assert enterprise.id is not None
        rows = by_registration.get(latest[enterprise.id], [])
        base = [enterprise.name, enterprise.tax_code, zone.name if zone else ""]
        state = REVIEW_WORDS.get(states.get(latest[enterprise.id], ""), "")
        people_rows = sorted(
            (r for r in rows if r[0] == NomineeKind.INDIVIDUAL), key=lambda r: vi_name_key(r[1])
        )
        group_rows = [r for r in rows if r[0] == NomineeKind.COLLECTIVE]
        for kind_value, name, position, title_code, award_code, initiative in (
            people_rows + group_rows
        ):
            kind = NomineeKind(kind_value)
            numbers[kind] += 1
            counts[title_code] += 1
            if award_code:
                counts[award_code] += 1
            title_name = names.get(title_code, title_code)
            award_name = names.get(award_code or "", "")
            if kind == NomineeKind.INDIVIDUAL:
                values = [numbers[kind], *base, name, position or "", title_name, award_name,
                          initiative or "", state]  # fmt: skip
                people.append(safe_row(people, values))
            else:
                groups.append(
                    safe_row(groups, [numbers[kind], *base, name, title_name, award_name, state])
                )
    totals = book.create_sheet("Tổng hợp")
    totals.append([text_cell(totals, f"TỔNG HỢP ĐĂNG KÝ NĂM {campaign.year}", bold=True)])
    totals.append([text_cell(totals, SCOPE_NOTE)])
    totals.append(
        [
            text_cell(totals, h, bold=True)
            for h in ("Danh hiệu / hình thức", "Số lượng", "Hệ số", "Dự kiến tiền thưởng (đồng)")
        ]
    )
    fund = Decimal(0)
    for entry in catalogue.catalogue(campaign.regime):
        count = counts.get(entry.code, 0)
        amount = (entry.multiplier or Decimal(0)) * BASE_SALARY_VND * count
        fund += amount
        totals.append(
            [text_cell(totals, entry.name), count, float(entry.multiplier or 0), int(amount)]
        )
    totals.append([text_cell(totals, "Tổng cộng", bold=True), None, None, int(fund)])
    totals.append([text_cell(totals, f"Lương cơ sở: {BASE_SALARY_VND:,} đồng".replace(",", "."))])
    return counts


def export_report_figures(
    *, session: Session, campaign: Campaign, path: Path, kind: str = MilestoneKind.REPORT
) -> int:
    """One row per enterprise with its newest submitted report's figures; returns the row count."""
    latest = latest_reports(session, campaign, kind)
    reports = {
        r.id: r
        for r in session.exec(select(Report).where(col(Report.id).in_(set(latest.values()))))
    }
    fields = figures_for(kind)
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        count = _figures_sheet(book, session, campaign, latest, reports, fields)
    return count


def _figures_sheet(
    book: Workbook,
    session: Session,
    campaign: Campaign,
    latest: dict[int, int],
    reports: dict[int | None, Report],
    fields: tuple[Figure, ...],
) -> int:
    """The figures sheet; returns its row count."""
    sheet = book.create_sheet("Số liệu báo cáo")
    sheet.append([text_cell(sheet, f"SỐ LIỆU BÁO CÁO TỔNG KẾT NĂM {campaign.year}", bold=True)])
    sheet.append([text_cell(sheet, SCOPE_NOTE)])
    sheet.append(
        [
            text_cell(sheet, h, bold=True)
            for h in (
                "STT",
                "Doanh nghiệp",
                "Mã số thuế",
                "Khu công nghiệp",
                "Số tiếp nhận",
                *[f.key for f in fields],
            )
        ]
    )
    count = 0
    for enterprise, zone in _enterprises(session, set(latest)):
        assert enterprise.id is not None
        report = reports[latest[enterprise.id]]
        count += 1
        values: list[object] = [
            count,
            enterprise.name,
            enterprise.tax_code,
            zone.name if zone else "",
            report.reference or "",
        ]
        for field in fields:
            value = report.figures.get(field.key)
            values.append(
                int(str(value))
                if field.kind in ("count", "money") and value not in (None, "")
                else value or ""
            )
        sheet.append([text_cell(sheet, v) for v in values])
    return count


def report_documents(
    *, session: Session, campaign: Campaign, root: Path
) -> Iterator[tuple[str, Path]]:
    """(name in the archive, stored path) of every current report document."""
    latest = latest_reports(session, campaign, MilestoneKind.REPORT)
    enterprises = {
        e.id: e for e in session.exec(select(Enterprise).where(col(Enterprise.id).in_(set(latest))))
    }
    rows = session.exec(
        select(Report, ReportDocument, StoredFile)
        .join(ReportDocument, col(ReportDocument.report_id) == col(Report.id))
        .join(StoredFile, col(StoredFile.id) == col(ReportDocument.file_id))
        .where(col(Report.id).in_(set(latest.values())))
        .where(col(StoredFile.removed_at).is_(None))  # gone under the retention setting
    ).all()
    for report, document, stored in rows:
        enterprise = enterprises[report.enterprise_id]
        label = "bao-cao-da-ky" if document.signed else f"kem-theo-{document.id}"
        yield f"{enterprise.tax_code}/{label}.{stored.content_type}", path_of(stored, root)


def zip_documents(*, session: Session, campaign: Campaign, root: Path, path: Path) -> int:
    """A zip of every current report document, one folder per tax code; returns the count."""
    count = 0
    with (
        whole_file(path) as part,
        zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, source in report_documents(session=session, campaign=campaign, root=root):
            if source.is_file():
                archive.write(source, arcname=name)
                count += 1
    return count
