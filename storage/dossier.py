"""The dossier the board sends upward: a draft tờ trình đề nghị khen thưởng, filled into a Word
template the board may edit (docxtpl), and the list of proposals it covers, as a workbook."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from babel.numbers import format_decimal
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docxtpl import DocxTemplate
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from storage import catalogue, exports, results
from storage.models import Campaign, Conferrer, NomineeKind, Regime, Registration, ReviewState
from storage.results import Proposal
from storage.xlsx import (
    header_row,
    number_cell,
    safe_row,
    set_widths,
    text_cell,
    whole_file,
    whole_workbook,
)

UPWARD = (Conferrer.PROVINCE, Conferrer.CENTRAL)  # what the board proposes, not what it grants
# The texts a tờ trình cites, per regime (data: a new decree is a new entry).
BASES: dict[Regime, tuple[str, ...]] = {
    Regime.ND91_2017: (
        "Luật Thi đua, Khen thưởng năm 2003; Luật sửa đổi, bổ sung một số điều của Luật Thi đua,"
        " Khen thưởng năm 2005 và năm 2013",
        "Nghị định số 91/2017/NĐ-CP ngày 31/7/2017 của Chính phủ quy định chi tiết thi hành một"
        " số điều của Luật Thi đua, Khen thưởng",
    ),
    Regime.ND98_2023: (
        "Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15/6/2022",
        "Nghị định số 98/2023/NĐ-CP ngày 31/12/2023 của Chính phủ quy định chi tiết thi hành một"
        " số điều của Luật Thi đua, khen thưởng",
    ),
    Regime.ND152_2025: (
        "Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15/6/2022",
        "Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết thi hành một số điều của"
        " Luật Thi đua, khen thưởng",
        "Quyết định số 86/2025/QĐ-UBND ngày 03/12/2025 của Ủy ban nhân dân tỉnh Bắc Ninh ban"
        " hành Quy chế công tác thi đua, khen thưởng",
    ),
}
RECIPIENT = "Chủ tịch Ủy ban nhân dân tỉnh"
THROUGH = "qua Sở Nội vụ"  # the dossier reaches the chairman through the department


@dataclass(frozen=True)
class Line:
    """One title or form proposed upward, with how many individuals and collectives."""

    number: int
    name: str
    individuals: str
    collectives: str
    total: str


@dataclass
class Dossier:
    """What the tờ trình covers."""

    proposals: list[Proposal] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    individuals: int = 0
    collectives: int = 0
    enterprises: int = 0
    left_out: int = 0  # enterprises whose newest list the board has not approved


def upward(session: Session, campaign: Campaign, *, approved_only: bool = True) -> Dossier:
    """The proposals the province (or higher) decides, from each enterprise's newest list: only
    lists the board approved, unless ``approved_only`` is off."""
    latest = exports.latest_registrations(session, campaign)
    states = dict(
        session.exec(
            select(Registration.id, Registration.review_state).where(
                col(Registration.id).in_(set(latest.values()))
            )
        ).all()
    )
    chosen = {
        e for e, r in latest.items() if not approved_only or states.get(r) == ReviewState.APPROVED
    }
    found = Dossier(left_out=len(latest) - len(chosen))
    found.proposals = [
        p for p in results.proposals(session, campaign, chosen) if p.conferrer in UPWARD
    ]
    found.enterprises = len({p.enterprise_id for p in found.proposals})
    counts = Counter((p.code, p.kind) for p in found.proposals)
    order = [t.code for t in catalogue.catalogue(campaign.regime)]
    codes = sorted(
        {code for code, _ in counts}, key=lambda c: (order.index(c) if c in order else 99, c)
    )
    names = {t.code: t.name for t in catalogue.catalogue(campaign.regime)}
    for number, code in enumerate(codes, start=1):
        people = counts[(code, NomineeKind.INDIVIDUAL.value)]
        groups = counts[(code, NomineeKind.COLLECTIVE.value)]
        found.individuals += people
        found.collectives += groups
        found.lines.append(
            Line(number, names.get(code, code), _n(people), _n(groups), _n(people + groups))
        )
    return found


def _n(value: int) -> str:
    """A count as Vietnamese forms write it (1.234); a dash for none."""
    return format_decimal(value, locale="vi") if value else "-"


def context(
    dossier: Dossier, campaign: Campaign, *, made_on: date, place: str, recipient: str = RECIPIENT
) -> dict[str, object]:
    """The template's fields (the README lists them, for a board that edits the template)."""
    return {
        "board": campaign.board_name,
        "board_upper": campaign.board_name.upper(),
        "year": campaign.year,
        "place": place,
        "day": f"{made_on.day:02d}",
        "month": f"{made_on.month:02d}",
        "year_made": made_on.year,
        "recipient": recipient,
        "through": THROUGH,
        "bases": list(BASES.get(Regime(campaign.regime), ())),
        "lines": dossier.lines,
        "individuals": _count(dossier.individuals),
        "collectives": _count(dossier.collectives),
        "total": _count(dossier.individuals + dossier.collectives),
        "enterprises": _count(dossier.enterprises),
    }


def _count(value: int) -> str:
    """A count in running text (0 as 0)."""
    return format_decimal(value, locale="vi")


def write_dossier(
    *,
    session: Session,
    campaign: Campaign,
    path: Path,
    list_path: Path,
    made_on: date,
    place: str = "Bắc Ninh",
    template: Path | None = None,
    approved_only: bool = True,
) -> Dossier:
    """Writes the tờ trình (``path``, .docx) from ``template`` (the default one if None) and
    the list it covers (``list_path``, .xlsx); returns what it covers."""
    dossier = write_letter(
        session=session, campaign=campaign, path=path, made_on=made_on, place=place,
        template=template, approved_only=approved_only,
    )  # fmt: skip
    write_list(dossier, campaign, list_path, made_on)
    return dossier


def write_letter(
    *,
    session: Session,
    campaign: Campaign,
    path: Path,
    made_on: date,
    place: str = "Bắc Ninh",
    template: Path | None = None,
    approved_only: bool = True,
) -> Dossier:
    """Writes the tờ trình alone; returns what it covers."""
    dossier = upward(session, campaign, approved_only=approved_only)
    with whole_file(path) as part:
        source = template or part.with_name(part.name + ".template.docx")
        if template is None:
            write_template(source)
        try:
            document = DocxTemplate(str(source))
            # names come from enterprises' files: escaped, never read as the template's markup
            document.render(context(dossier, campaign, made_on=made_on, place=place),
                            autoescape=True)  # fmt: skip
            document.save(str(part))
        finally:
            if template is None:
                source.unlink(missing_ok=True)
    return dossier


PEOPLE_HEADER = ("STT", "Họ và tên", "Chức vụ, đơn vị", "Doanh nghiệp", "Mã số thuế",
                 "Danh hiệu, hình thức đề nghị", "Số tiếp nhận")  # fmt: skip
GROUPS_HEADER = ("STT", "Tên tập thể", "Doanh nghiệp", "Mã số thuế",
                 "Danh hiệu, hình thức đề nghị", "Số tiếp nhận")  # fmt: skip


def write_list(dossier: Dossier, campaign: Campaign, path: Path, made_on: date) -> None:
    """The list attached to the tờ trình: individuals and collectives, in the official order."""
    names = {t.code: t.name for t in catalogue.catalogue(campaign.regime)}
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        for title, header, kind, widths in (
            ("Cá nhân", PEOPLE_HEADER, NomineeKind.INDIVIDUAL, (6, 28, 28, 34, 13, 40, 16)),
            ("Tập thể", GROUPS_HEADER, NomineeKind.COLLECTIVE, (6, 32, 34, 13, 40, 16)),
        ):
            sheet = book.create_sheet(title)
            sheet.freeze_panes = "C5"
            set_widths(sheet, widths)
            heading = (f"DANH SÁCH {title.upper()} ĐỀ NGHỊ KHEN THƯỞNG NĂM {campaign.year}"
                       f" (kèm theo Tờ trình của {campaign.board_name})")  # fmt: skip
            sheet.append([text_cell(sheet, heading, bold=True)])
            sheet.append([text_cell(sheet, exports.made_words(made_on))])
            sheet.append([])
            sheet.append(header_row(sheet, header))
            listed = [p for p in dossier.proposals if p.kind == kind.value]
            for number, p in enumerate(listed, start=1):
                what = names.get(p.code, p.code)
                values: list[object] = (
                    [number_cell(sheet, number), p.name, p.position or "", p.enterprise,
                     p.tax_code, what, p.reference]
                    if kind == NomineeKind.INDIVIDUAL
                    else [number_cell(sheet, number), p.name, p.enterprise, p.tax_code, what,
                          p.reference]
                )  # fmt: skip
                sheet.append(safe_row(sheet, values))
            if listed:
                sheet.auto_filter.ref = f"A4:{get_column_letter(len(header))}{4 + len(listed)}"
            total = f"Tổng cộng: {format_decimal(len(listed), locale='vi')}"
            sheet.append([None, text_cell(sheet, total, bold=True)])


def write_template(path: Path) -> None:
    """The default tờ trình as a template (python-docx): the board's layout with the fields of
    ``context`` in Jinja tags, for docxtpl to fill; ``thidua export dossier-template`` gives
    the board a copy to edit."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    head = document.add_table(rows=2, cols=2)
    cells = (
        ("{{ board_upper }}", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        ("Số:        /TTr-BQL", "Độc lập - Tự do - Hạnh phúc"),
    )
    for row, (left, right) in zip(head.rows, cells, strict=True):
        for cell, text in zip(row.cells, (left, right), strict=True):
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(text).bold = text != "Số:        /TTr-BQL"
    date_line = document.add_paragraph(
        "{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year_made }}"
    )
    date_line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    date_line.runs[0].italic = True
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("TỜ TRÌNH").bold = True
    subject = document.add_paragraph()
    subject.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subject.add_run(
        "Về việc đề nghị khen thưởng phong trào thi đua năm {{ year }}"
        " cho các doanh nghiệp trong các khu công nghiệp"
    ).bold = True
    to = document.add_paragraph("Kính gửi: {{ recipient }} ({{ through }}).")
    to.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("{%p for basis in bases %}")
    document.add_paragraph("Căn cứ {{ basis }};")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph(
        "Trên cơ sở đăng ký thi đua và báo cáo tổng kết phong trào thi đua năm {{ year }} của"
        " các doanh nghiệp, {{ board }} kính trình {{ recipient }} xem xét, khen thưởng"
        " {{ total }} lượt ({{ individuals }} lượt cá nhân, {{ collectives }} lượt tập thể)"
        " cho {{ enterprises }} doanh nghiệp, cụ thể như sau:"
    )
    table = document.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    header = ("STT", "Danh hiệu, hình thức khen thưởng", "Cá nhân", "Tập thể", "Cộng")
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].text = "{%tr for line in lines %}"
    fields = ("{{ line.number }}", "{{ line.name }}", "{{ line.individuals }}",
              "{{ line.collectives }}", "{{ line.total }}")  # fmt: skip
    for cell, text in zip(table.rows[2].cells, fields, strict=True):
        cell.text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    totals = table.add_row().cells
    for cell, text in zip(
        totals,
        ("", "Tổng cộng", "{{ individuals }}", "{{ collectives }}", "{{ total }}"),
        strict=True,
    ):
        cell.paragraphs[0].add_run(text).bold = True
    document.add_paragraph("(Có danh sách chi tiết kèm theo.)").runs[0].italic = True
    document.add_paragraph("{{ board }} kính trình {{ recipient }} xem xét, quyết định./.")
    sign = document.add_table(rows=1, cols=2)
    left, right = sign.rows[0].cells
    left.paragraphs[0].add_run("Nơi nhận:").bold = True
    left.add_paragraph("- Như trên;")
    left.add_paragraph("- Lưu: VT.")
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run("TRƯỞNG BAN").bold = True
    document.save(str(path))
