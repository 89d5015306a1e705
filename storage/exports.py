"""The aggregated lists the board sends upward, laid out like the official forms.

Headings are the forms' own (Vietnamese) wording, so they are form data here, like the
catalogue. Only each enterprise's newest *submitted* version is included; every sheet says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import campaigns, catalogue, prizes
from storage.catalogue import Subject
from storage.models import (
    Campaign,
    Enterprise,
    IndustrialZone,
    MilestoneKind,
    Nominee,
    NomineeKind,
    Registration,
    Report,
    SubmissionStatus,
)
from storage.report_figures import (
    AVERAGES,
    CHOICE_WORDS,
    SHEET_HEADERS,
    Figure,
    FigureKind,
    figures_for,
)
from storage.text import tone_key, vi_name_key
from storage.xlsx import (
    header_row,
    number_cell,
    safe_row,
    set_widths,
    text_cell,
    whole_workbook,
)

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


def latest_registrations(
    session: Session, campaign: Campaign, enterprise_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """Each enterprise's newest submitted registration (only these enterprises', if given)."""
    query = select(Registration.enterprise_id, Registration.id, Registration.version).where(
        Registration.campaign_id == campaign.id,
        Registration.status == SubmissionStatus.SUBMITTED,
    )
    if enterprise_ids is not None:
        query = query.where(col(Registration.enterprise_id).in_(set(enterprise_ids)))
    rows = session.exec(query).all()
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


def enterprises_in_order(
    session: Session, ids: set[int]
) -> list[tuple[Enterprise, IndustrialZone | None]]:
    """These enterprises with their zone, in the lists' order: by zone, then by name."""
    rows = session.exec(
        select(Enterprise, IndustrialZone)
        .join(IndustrialZone, isouter=True)
        .where(col(Enterprise.id).in_(ids))
    ).all()
    return sorted(rows, key=lambda pair: ((pair[1].name if pair[1] else ""), pair[0].name_key))


def export_registrations(
    *, session: Session, campaign: Campaign, path: Path, made_on: date | None = None,
    salaries: prizes.Salaries = (),
) -> dict[str, int]:  # fmt: skip
    """Writes "Cá nhân", "Tập thể" and "Tổng hợp" sheets; returns counts per title code.
    ``salaries``: base salaries decreed since the built-in table (a setting)."""
    latest = latest_registrations(session, campaign)
    states = {
        row_id: (state, reference)
        for row_id, state, reference in session.exec(
            select(Registration.id, Registration.review_state, Registration.reference).where(
                col(Registration.id).in_(set(latest.values()))
            )
        ).all()
    }
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        counts = _registration_sheets(book, session, campaign, latest, states, made_on, salaries)
    return dict(counts)


PEOPLE_HEADER = ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
                 "Họ và tên", "Chức vụ, đơn vị", "Danh hiệu thi đua",
                 "Hình thức khen thưởng đề nghị", "Tên sáng kiến", "Trạng thái",
                 "Căn cứ đề nghị")  # fmt: skip
GROUPS_HEADER = ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
                 "Tên tập thể", "Danh hiệu thi đua", "Hình thức khen thưởng đề nghị",
                 "Trạng thái", "Căn cứ đề nghị")  # fmt: skip


def _registration_sheets(
    book: Workbook,
    session: Session,
    campaign: Campaign,
    latest: dict[int, int],
    states: dict[int | None, tuple[str, str | None]],
    made_on: date | None = None,
    salaries: prizes.Salaries = (),
) -> Counter[str]:
    """The three sheets of the registration list; returns counts per title code."""
    people = book.create_sheet("Cá nhân")
    groups = book.create_sheet("Tập thể")
    heading = f"DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM {campaign.year}"
    for sheet, header, widths in (
        (people, PEOPLE_HEADER, (6, 34, 13, 18, 15, 26, 28, 30, 30, 30, 15, 34)),
        (groups, GROUPS_HEADER, (6, 34, 13, 18, 15, 30, 30, 30, 15, 34)),
    ):  # fmt: skip
        sheet.freeze_panes = "C6"
        set_widths(sheet, widths)
        sheet.append([text_cell(sheet, heading, bold=True)])
        sheet.append([text_cell(sheet, campaign.board_name)])
        sheet.append([text_cell(sheet, SCOPE_NOTE)])
        sheet.append([text_cell(sheet, made_words(made_on))])
        sheet.append(header_row(sheet, header))
    counts: Counter[str] = Counter()
    numbers = {NomineeKind.INDIVIDUAL: 0, NomineeKind.COLLECTIVE: 0}
    lines: Counter[str] = Counter()  # enterprise headings written per sheet
    by_subject: Counter[tuple[str, str]] = Counter()  # (title, individual|collective) -> count
    titles_of: defaultdict[tuple[int, str, str], list[str]] = defaultdict(list)  # a person's titles
    by_registration: dict[int, list[tuple[Any, ...]]] = {}
    query = (
        sa_select(
            Nominee.__table__.c.registration_id,  # type: ignore[attr-defined]
            Nominee.__table__.c.kind,  # type: ignore[attr-defined]
            Nominee.__table__.c.name,  # type: ignore[attr-defined]
            Nominee.__table__.c.position,  # type: ignore[attr-defined]
            Nominee.__table__.c.title_code,  # type: ignore[attr-defined]
            Nominee.__table__.c.award_code,  # type: ignore[attr-defined]
            Nominee.__table__.c.initiative,  # type: ignore[attr-defined]
            Nominee.__table__.c.basis,  # type: ignore[attr-defined]
        )
        .where(col(Nominee.registration_id).in_(set(latest.values())))
        .order_by(col(Nominee.id))
    )
    for registration_id, *values in session.execute(query):  # plain tuples: 100,000 rows fast
        by_registration.setdefault(registration_id, []).append(tuple(values))
    names = {t.code: t.name for t in catalogue.catalogue(campaign.regime)}
    for enterprise, zone in enterprises_in_order(session, set(latest)):
        assert enterprise.id is not None
        rows = by_registration.get(latest[enterprise.id], [])
        review, reference = states.get(latest[enterprise.id], ("", None))
        base = [enterprise.name, enterprise.tax_code, zone.name if zone else "", reference or ""]
        state = REVIEW_WORDS.get(review, "")
        people_rows = sorted(
            (r for r in rows if r[0] == NomineeKind.INDIVIDUAL), key=lambda r: vi_name_key(r[1])
        )
        group_rows = [r for r in rows if r[0] == NomineeKind.COLLECTIVE]
        heading = f"{enterprise.name} — MST {enterprise.tax_code}" + (
            f" — {zone.name}" if zone else ""
        ) + f" — {reference or ''} ({state})"  # fmt: skip
        for sheet, listed, kind_name in (
            (people, people_rows, "cá nhân"),
            (groups, group_rows, "tập thể"),
        ):  # grouped per enterprise as the form is, under a heading of its own
            if listed:
                sheet.append([None, text_cell(sheet, f"{heading}: {len(listed)} {kind_name}",
                                              bold=True)])  # fmt: skip
                lines[sheet.title] += 1
        for kind_value, name, position, title_code, award_code, initiative, basis in (
            people_rows + group_rows
        ):
            kind = NomineeKind(kind_value)
            numbers[kind] += 1
            counts[title_code] += 1
            by_subject[(title_code, kind.value)] += 1
            if kind == NomineeKind.INDIVIDUAL and title_code:
                person = (enterprise.id, tone_key(name), tone_key(position or ""))
                titles_of[person].append(title_code)  # two namesakes differ by their post
            if award_code:
                counts[award_code] += 1
                by_subject[(award_code, kind.value)] += 1
            title_name = names.get(title_code, title_code)
            award_name = names.get(award_code or "", "")
            if kind == NomineeKind.INDIVIDUAL:
                values = [numbers[kind], *base, name, position or "", title_name, award_name,
                          initiative or "", state, basis or ""]  # fmt: skip
                people.append(safe_row(people, values))
            else:
                values = [numbers[kind], *base, name, title_name, award_name, state, basis or ""]
                groups.append(safe_row(groups, values))
    for sheet, header, written in (
        (people, PEOPLE_HEADER, numbers[NomineeKind.INDIVIDUAL]),
        (groups, GROUPS_HEADER, numbers[NomineeKind.COLLECTIVE]),
    ):
        if written:
            last = 5 + written + lines[sheet.title]
            sheet.auto_filter.ref = f"A5:{get_column_letter(len(header))}{last}"
        sheet.append([None, text_cell(sheet, f"Tổng cộng: {written:,} dòng".replace(",", "."),
                                      bold=True)])  # fmt: skip
    _summary_sheet(
        book, session, campaign, by_subject, _unpaid(campaign, titles_of), made_on, salaries
    )
    return counts


def _unpaid(campaign: Campaign, titles_of: dict[tuple[int, str, str], list[str]]) -> Counter[str]:
    """Titles not paid because the same person holds a higher one in the period: only the
    highest is paid (NĐ 152/2025 Đ.49 k5, k7; a commendation is paid besides)."""
    unpaid: Counter[str] = Counter()
    for codes in titles_of.values():
        if len(codes) < 2:
            continue
        ranked = sorted(codes, key=lambda code: _individual_rate(campaign, code), reverse=True)
        unpaid.update(ranked[1:])
    return unpaid


def _individual_rate(campaign: Campaign, code: str) -> Decimal:
    """A title's prize multiplier for a person (0: none set), to rank one person's titles."""
    found = prizes.rate(campaign.regime, code, "individual")
    return found.multiplier if found else Decimal(0)


def _summary_sheet(
    book: Workbook,
    session: Session,
    campaign: Campaign,
    by_subject: Counter[tuple[str, str]],
    unpaid: Counter[str],
    made_on: date | None,
    salaries: prizes.Salaries = (),
) -> None:
    """Counts and the estimated prize fund per title and subject, at the base salary of the
    decision's day (the year-end report's cut-off), each prize rounded up to 10.000 đ, split
    by who confers and pays."""
    stones = campaigns.milestones(session=session, campaign=campaign)
    last = campaigns.evaluation({MilestoneKind(m.kind): m.due_at for m in stones})
    decided = last.date() if last else date(campaign.year, 12, 31)
    salary, since = prizes.base_salary(decided, salaries)
    sheet = book.create_sheet("Tổng hợp")
    sheet.freeze_panes = "A6"
    set_widths(sheet, (56, 12, 10, 20, 24, 60))
    sheet.append([text_cell(sheet, f"TỔNG HỢP ĐĂNG KÝ NĂM {campaign.year}", bold=True)])
    sheet.append([text_cell(sheet, campaign.board_name)])
    sheet.append([text_cell(sheet, SCOPE_NOTE)])
    sheet.append([text_cell(sheet, made_words(made_on))])
    sheet.append(header_row(sheet, (
        "Danh hiệu / hình thức", "Số lượng", "Hệ số", "Mức mỗi suất (đồng)",
        "Dự kiến tiền thưởng (đồng)", "Căn cứ",
    )))  # fmt: skip
    fund = {payer: 0 for payer in prizes.Payer}
    total_count = 0
    for payer, heading in (
        (prizes.Payer.ENTERPRISE, "Doanh nghiệp khen thưởng và chi trả"),
        (prizes.Payer.PROVINCE, "Chủ tịch UBND tỉnh khen thưởng, tỉnh chi trả"),
        (prizes.Payer.CENTRAL, "Đề nghị cấp trên khen thưởng (Thủ tướng Chính phủ, Chủ tịch nước)"),
    ):
        sheet.append([text_cell(sheet, heading, bold=True)])
        for entry in catalogue.catalogue(campaign.regime):
            if prizes.PAYERS.get(entry.code) != payer:
                continue
            subjects = [s for s in ("individual", "collective") if entry.fits(Subject(s))]
            for subject in subjects:
                count = by_subject.get((entry.code, subject), 0)
                paid = count - (unpaid.get(entry.code, 0) if subject == "individual" else 0)
                label = entry.name if len(subjects) == 1 else (
                    f"{entry.name} — {'cá nhân' if subject == 'individual' else 'tập thể'}"
                )  # fmt: skip
                found = prizes.rate(campaign.regime, entry.code, subject)
                each = prizes.per_award(found.multiplier, salary) if found else 0
                fund[payer] += each * paid
                total_count += count
                sheet.append([
                    text_cell(sheet, label), number_cell(sheet, count),
                    float(found.multiplier) if found else text_cell(sheet, "chưa có hệ số"),
                    number_cell(sheet, each) if found else None,
                    number_cell(sheet, each * paid) if found else None,
                    text_cell(sheet, found.basis if found else ""),
                ])  # fmt: skip
        sheet.append([
            text_cell(sheet, f"Cộng: {heading[:1].lower()}{heading[1:]}", bold=True), None, None,
            None,
            number_cell(sheet, fund[payer], bold=True),
        ])  # fmt: skip
    sheet.append([
        text_cell(sheet, "Tổng cộng", bold=True), number_cell(sheet, total_count, bold=True),
        None, None, number_cell(sheet, sum(fund.values()), bold=True),
    ])  # fmt: skip
    if unpaid:
        sheet.append([text_cell(
            sheet,
            f"{sum(unpaid.values())} suất không tính tiền thưởng: cùng người đã có danh hiệu"
            " cao hơn trong kỳ, chỉ danh hiệu cao nhất được thưởng (Nghị định 152/2025/NĐ-CP,"
            " Điều 49 khoản 5, 7).",
        )])  # fmt: skip
    sheet.append([text_cell(
        sheet,
        f"Lương cơ sở {_grouped(salary)} đồng (áp dụng từ {since:%d/%m/%Y}), tính theo ngày"
        f" quyết định {decided:%d/%m/%Y}; mỗi suất làm tròn lên {_grouped(prizes.ROUND_TO)}"
        f" đồng ({prizes.ROUNDING_BASIS}).",
    )])  # fmt: skip


def export_report_figures(
    *, session: Session, campaign: Campaign, path: Path, kind: str = MilestoneKind.REPORT,
    made_on: date | None = None,
) -> int:  # fmt: skip
    """One row per enterprise with its newest submitted report's figures; returns the row count."""
    latest = latest_reports(session, campaign, kind)
    reports = {
        r.id: r
        for r in session.exec(select(Report).where(col(Report.id).in_(set(latest.values()))))
    }
    fields = figures_for(kind)
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        count = _figures_sheet(book, session, campaign, latest, reports, fields, made_on)
    return count


FIGURE_LEAD = ("STT", "Doanh nghiệp", "Mã số thuế", "Khu công nghiệp", "Số tiếp nhận",
               "Phiên bản", "Trạng thái xem xét")  # fmt: skip


def _figures_sheet(
    book: Workbook,
    session: Session,
    campaign: Campaign,
    latest: dict[int, int],
    reports: dict[int | None, Report],
    fields: tuple[Figure, ...],
    made_on: date | None,
) -> int:
    """The figures sheet as a clerk reads it: Vietnamese headers and words, separators, the
    header frozen and filtered, a "Tổng cộng" row; returns the enterprise count."""
    sheet = book.create_sheet("Số liệu báo cáo")
    sheet.freeze_panes = "C6"  # the title block and header, the number and name stay in view
    set_widths(sheet, [6, 36, 13, 20, 15, 9, 16, *[18 for _f in fields]])
    title = "TỔNG KẾT NĂM" if len(fields) == len(figures_for(MilestoneKind.REPORT)) else "SƠ KẾT"
    sheet.append([text_cell(sheet, f"SỐ LIỆU BÁO CÁO {title} {campaign.year}", bold=True)])
    sheet.append([text_cell(sheet, campaign.board_name)])
    sheet.append([text_cell(sheet, SCOPE_NOTE)])
    sheet.append([text_cell(sheet, made_words(made_on))])
    sheet.append(header_row(sheet, [*FIGURE_LEAD, *[SHEET_HEADERS[f.key] for f in fields]]))
    totals: dict[str, Decimal] = {}
    counted: dict[str, int] = {}
    count = 0
    for enterprise, zone in enterprises_in_order(session, set(latest)):
        assert enterprise.id is not None
        report = reports[latest[enterprise.id]]
        count += 1
        cells: list[object] = [
            count,
            text_cell(sheet, enterprise.name),
            text_cell(sheet, enterprise.tax_code),
            text_cell(sheet, zone.name if zone else ""),
            text_cell(sheet, report.reference or ""),
            report.version,
            text_cell(sheet, REVIEW_WORDS.get(report.review_state, report.review_state)),
        ]
        for field in fields:
            value = report.figures.get(field.key)
            if field.kind in (FigureKind.COUNT, FigureKind.MONEY) and value not in (None, ""):
                number = Decimal(str(value))
                totals[field.key] = totals.get(field.key, Decimal(0)) + number
                counted[field.key] = counted.get(field.key, 0) + 1
                cells.append(number_cell(sheet, int(number)))
            elif field.kind == FigureKind.CHOICE:
                cells.append(text_cell(sheet, CHOICE_WORDS.get(str(value), str(value or ""))))
            else:
                cells.append(text_cell(sheet, str(value or "")))
        sheet.append(cells)
    if count:
        sheet.auto_filter.ref = f"A5:{get_column_letter(len(FIGURE_LEAD) + len(fields))}{5 + count}"
        row: list[object] = [None, text_cell(sheet, "Tổng cộng", bold=True), *[None] * 5]
        for field in fields:
            total = totals.get(field.key)
            if total is not None and field.key in AVERAGES:
                total = total / counted[field.key]  # "bình quân": the mean, not a sum
            row.append(number_cell(sheet, int(total), bold=True) if total is not None else None)
        sheet.append(row)
    return count


def _grouped(amount: int) -> str:
    """1.234.567, as Vietnamese write amounts."""
    return f"{amount:,}".replace(",", ".")


def made_words(made_on: date | None) -> str:
    """The title block's date line."""
    return f"Ngày lập: {made_on:%d/%m/%Y}" if made_on else ""
