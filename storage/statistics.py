"""The year's commendation statistics as the upward form asks them (TT 02/2023/TT-BNV, Biểu
0603.N): per title and form, collectives with "of which enterprises", individuals by category,
women among them — from the results recorded, or the proposals while none are."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session

from storage import catalogue, exports, results
from storage.models import Campaign, NomineeCategory, NomineeKind
from storage.xlsx import header_row, number_cell, set_widths, text_cell, whole_workbook

FORM = "Biểu số 0603.N (Thông tư 02/2023/TT-BNV)"
HEADER = (
    "STT", "Danh hiệu thi đua, hình thức khen thưởng", "Tập thể: tổng số",
    "Tập thể: trong đó doanh nghiệp", "Cá nhân: tổng số", "Cá nhân: doanh nhân",
    "Cá nhân: cán bộ quản lý", "Cá nhân: người lao động trực tiếp", "Cá nhân: chưa phân loại",
    "Cá nhân: trong đó nữ",
)  # fmt: skip


@dataclass
class Counts:
    """One line of the form."""

    collectives: int = 0
    enterprises: int = 0
    individuals: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    women: int = 0


@dataclass
class Statistics:
    """The form's lines by title or form code, and what they were counted from."""

    lines: dict[str, Counts] = field(default_factory=dict)
    from_results: bool = False
    pending: int = 0  # counting results: proposals with none yet, left out


def count(session: Session, campaign: Campaign) -> Statistics:
    """Counts what was conferred (recognised results, by what was conferred); while no result
    is recorded, what was proposed in each enterprise's newest list."""
    proposals = results.proposals(session, campaign)
    known = results.recorded(session, campaign)
    found = Statistics(from_results=bool(known))
    for proposal in proposals:
        code = proposal.code
        if known:
            row = known.get(proposal.key)
            found.pending += row is None
            if row is None or not row.recognised:
                continue
            code = row.conferred_code or row.proposed_code
        line = found.lines.setdefault(code, Counts())
        if proposal.kind == NomineeKind.COLLECTIVE:
            line.collectives += 1
            line.enterprises += catalogue.names_a_company(proposal.name)  # "of which enterprises"
        else:
            line.individuals += 1
            line.by_category[proposal.category or ""] += 1
            line.women += proposal.gender == "female"
    return found


def write_statistics(
    *, session: Session, campaign: Campaign, path: Path, made_on: date | None = None
) -> Statistics:
    """Writes the form as a workbook; returns what it counted."""
    found = count(session, campaign)
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        sheet = book.create_sheet("Biểu 0603.N")
        sheet.freeze_panes = "C6"
        set_widths(sheet, (6, 48, 12, 14, 12, 12, 14, 16, 14, 12))
        title = f"SỐ LƯỢNG KHEN THƯỞNG NĂM {campaign.year} — {FORM}"
        sheet.append([text_cell(sheet, title, bold=True)])
        sheet.append([text_cell(sheet, campaign.board_name)])
        source = (
            "Theo kết quả khen thưởng đã ghi nhận (danh hiệu, hình thức được tặng)"
            + (f"; {found.pending} đề nghị chưa có kết quả, chưa tính." if found.pending else ".")
            if found.from_results
            else "Chưa có kết quả khen thưởng: số liệu theo đề nghị trong bản đăng ký mới nhất"
            " của mỗi doanh nghiệp."
        )
        sheet.append([text_cell(sheet, source)])
        sheet.append([text_cell(sheet, exports.made_words(made_on))])
        sheet.append(header_row(sheet, HEADER))
        total = Counts()
        order = [t for t in catalogue.catalogue(campaign.regime) if t.code in found.lines]
        for number, title_ in enumerate(order, start=1):
            line = found.lines[title_.code]
            _add(total, line)
            sheet.append([number_cell(sheet, number), text_cell(sheet, title_.name),
                          *_cells(sheet, line)])  # fmt: skip
        sheet.append([None, text_cell(sheet, "Tổng cộng", bold=True),
                      *_cells(sheet, total, bold=True)])  # fmt: skip
    return found


def _cells(sheet: WriteOnlyWorksheet, line: Counts, *, bold: bool = False) -> list[object]:
    values = (
        line.collectives, line.enterprises, line.individuals,
        line.by_category[NomineeCategory.ENTREPRENEUR.value],
        line.by_category[NomineeCategory.MANAGER.value],
        line.by_category[NomineeCategory.WORKER.value], line.by_category[""], line.women,
    )  # fmt: skip
    return [number_cell(sheet, v, bold=bold) for v in values]


def _add(total: Counts, line: Counts) -> None:
    total.collectives += line.collectives
    total.enterprises += line.enterprises
    total.individuals += line.individuals
    total.by_category.update(line.by_category)
    total.women += line.women
