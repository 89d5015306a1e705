"""The registration form as a workbook: the template enterprises fill, and reading it back.

Column headings are those of the official form ("DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA"), so they
are form data in Vietnamese, like the catalogue's names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from storage import catalogue
from storage.catalogue import Subject
from storage.headers import cell, find_header, header_field
from storage.models import Nominee, NomineeKind
from storage.registrations import MAX_NOMINEES, NomineeInput, SubmissionError, validate
from storage.tabular import FORM_LIMITS, Row, TableFileError, read_sheets
from storage.xlsx import whole_file, writable

ALIASES = {
    "person": ("ho va ten", "ho ten", "ten ca nhan", "ho va ten ca nhan", "full name", "name"),
    "group": ("ten tap the", "tap the", "ten don vi", "ten phong ban", "collective"),
    "position": (
        "chuc vu don vi", "chuc vu", "chuc vu don vi cong tac", "don vi cong tac", "don vi",
        "chuc danh", "bo phan", "position",
    ),
    "title": (
        "danh hieu thi dua", "danh hieu", "danh hieu dang ky", "danh hieu thi dua dang ky", "title",
    ),
    "award": ("hinh thuc khen thuong de nghi", "hinh thuc khen thuong", "khen thuong", "award"),
    "initiative": (
        "ten sang kien", "sang kien", "ten sang kien de tai", "sang kien de tai", "initiative",
    ),
    "category": ("doi tuong", "thanh phan", "phan loai", "category"),
    "gender": ("gioi tinh", "nam nu", "gender", "sex"),
    "members": ("so nguoi", "so lao dong", "so thanh vien", "tong so thanh vien", "quan so",
                "tong so nguoi", "members"),
    "basis": ("can cu de nghi", "can cu", "can cu khen thuong", "ghi chu can cu", "basis"),
}  # fmt: skip
BASIS_HEADER = "Căn cứ đề nghị (Cờ, Bằng khen, CSTĐ tỉnh)"
INDIVIDUAL_HEADER = (
    "STT", "Họ và tên", "Chức vụ, đơn vị", "Danh hiệu thi đua",
    "Hình thức khen thưởng đề nghị", "Tên sáng kiến (nếu đăng ký CSTĐCS)",
    "Đối tượng (không bắt buộc)", "Giới tính (không bắt buộc)", BASIS_HEADER,
)  # fmt: skip
# no comma in a name: the form's drop-down list is written with commas between them
CATEGORY_NAMES = {"entrepreneur": "Doanh nhân", "manager": "Cán bộ quản lý",
                  "worker": "Người lao động trực tiếp"}  # fmt: skip
GENDER_NAMES = {"female": "Nữ", "male": "Nam"}
COLLECTIVE_HEADER = ("STT", "Tên tập thể", "Danh hiệu thi đua", "Hình thức khen thưởng đề nghị",
                     "Số người (không bắt buộc)", BASIS_HEADER)  # fmt: skip


@dataclass
class RowError:
    """A refused row: where it is, and why (a SubmissionError code and parameters)."""

    sheet: str
    row: int
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class SheetReading:
    """What an uploaded form yielded: valid rows ready to store, and refused rows."""

    rows: list[dict[str, object]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)

    def count(self, kind: NomineeKind) -> int:
        """Valid rows of one kind."""
        return sum(1 for r in self.rows if r["kind"] == kind.value)


def read_form(path: Path, *, regime: str, max_bytes: int) -> SheetReading:
    """Reads every sheet that looks like one of the form's two tables; raises TableFileError."""
    reading = SheetReading()
    for sheet, rows in read_sheets(path, max_bytes=max_bytes, limits=FORM_LIMITS):
        found = find_header(rows, ALIASES, ("title",), one_of=("person", "group"))
        if found is not None:
            _read_rows(reading, sheet, rows, *found, regime)
    if not reading.sheets:
        raise TableFileError("form_no_header")
    return reading


def _read_rows(
    reading: SheetReading,
    sheet: str,
    rows: Iterator[Row],
    header_row: int,
    columns: dict[str, int],
    regime: str,
) -> None:
    """Validates each data row of one table (people when it has a "Họ và tên" column)."""
    kind = NomineeKind.INDIVIDUAL if "person" in columns else NomineeKind.COLLECTIVE
    name_field = "person" if kind == NomineeKind.INDIVIDUAL else "group"
    reading.sheets.append(sheet)
    for number, row in enumerate(rows, start=header_row + 1):
        if len(reading.rows) + len(reading.errors) >= MAX_NOMINEES:
            raise TableFileError("file_too_many_rows", limit=MAX_NOMINEES)
        text = {name: _text(cell(row, columns, name)) for name in ALIASES}
        filled = sum(1 for value in row if value is not None and str(value).strip())
        if (filled <= 1 and not text[name_field]) or not (
            text["title"] or text["award"] or text["position"] or text["initiative"]
        ):
            continue  # blank row, a section heading ("I. Khối văn phòng") or the signature block
        if header_field(text[name_field], ALIASES) == name_field:
            continue  # the header repeated (a list pasted together from pages)
        try:
            reading.rows.append(
                validate(
                    regime,
                    NomineeInput(
                        kind=kind,
                        name=text[name_field],
                        title=text["title"],
                        position=text["position"] if kind == NomineeKind.INDIVIDUAL else None,
                        award=text["award"],
                        initiative=text["initiative"] if kind == NomineeKind.INDIVIDUAL else None,
                        row_number=number,
                        category=text["category"] or None,
                        gender=text["gender"] or None,
                        members=cell(row, columns, "members"),
                        basis=text["basis"] or None,
                    ),
                )
            )
        except SubmissionError as error:
            reading.errors.append(RowError(sheet, number, error.code, error.params))


def _text(value: object) -> str:
    """A cell as text ("" when empty); whole numbers lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def write_template(
    path: Path, *, regime: str, year: int, enterprise: str, rows: Sequence[Nominee] = ()
) -> None:
    """The form to fill (holding ``rows`` already), with drop-down lists of titles and awards."""
    workbook = Workbook()
    people = workbook.active
    assert people is not None
    people.title = "Cá nhân"
    groups = workbook.create_sheet("Tập thể")
    lists = workbook.create_sheet("Danh mục")
    titles = catalogue.catalogue(regime)
    choices = {
        "individual": [t.name for t in titles if not t.is_award and t.fits(Subject.INDIVIDUAL)],
        "collective": [t.name for t in titles if not t.is_award and t.fits(Subject.COLLECTIVE)],
        "award": [t.name for t in titles if t.is_award],
    }
    for number, (key, names) in enumerate(choices.items(), start=1):
        for line, name in enumerate(names, start=1):
            lists.cell(row=line, column=number, value=name)
        col_letter = "ABC"[number - 1]
        reference = f"'Danh mục'!${col_letter}$1:${col_letter}${len(names)}"
        workbook.defined_names[f"ds_{key}"] = DefinedName(f"ds_{key}", attr_text=reference)
    heading = f"DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM {year}"
    for sheet, header, title_list, title_col, award_col in (
        (people, INDIVIDUAL_HEADER, "ds_individual", "D", "E"),
        (groups, COLLECTIVE_HEADER, "ds_collective", "C", "D"),
    ):
        for line, texts in enumerate(([heading], [enterprise], header), start=1):
            for column, value in enumerate(texts, start=1):
                _put(sheet, line, column, value)
        for cell_ in sheet[3]:
            cell_.font = Font(bold=True)
        kind = NomineeKind.INDIVIDUAL if sheet is people else NomineeKind.COLLECTIVE
        mine = [r for r in rows if r.kind == kind]
        for number, row in enumerate(mine, start=1):
            title = catalogue.by_code(regime, row.title_code)
            award = catalogue.by_code(regime, row.award_code) if row.award_code else None
            names = [title.name if title else row.title_code, award.name if award else ""]
            values: list[int | str] = [number, row.name]
            if kind == NomineeKind.INDIVIDUAL:
                values += [row.position or "", *names, row.initiative or "",
                           CATEGORY_NAMES.get(row.category or "", ""),
                           GENDER_NAMES.get(row.gender or "", ""), row.basis or ""]  # fmt: skip
            else:
                values += [*names, row.members or "", row.basis or ""]
            line = sheet.max_row + 1
            for column, written in enumerate(values, start=1):
                _put(sheet, line, column, written)
        sheet["A1"].font = Font(bold=True)
        listed = [(f"={title_list}", title_col), ("=ds_award", award_col)]
        if sheet is people:
            words = ",".join(CATEGORY_NAMES.values())
            listed += [(f'"{words}"', "G"), ('"Nữ,Nam"', "H")]
        for formula, target in listed:
            check = DataValidation(type="list", formula1=formula, allow_blank=True)
            check.add(f"{target}4:{target}{MAX_NOMINEES + 3}")
            sheet.add_data_validation(check)
        widths = (6, 30, 34, 30, 40, 40, 30, 14, 40)
        for letter, width in zip("ABCDEFGHI", widths, strict=False):
            sheet.column_dimensions[letter].width = width
    with whole_file(path) as part:
        workbook.save(part)


def _put(sheet: Worksheet, row: int, column: int, value: int | str) -> None:
    """Writes a cell; text stays text (an enterprise named "=HYPERLINK(…)" is a name), cleaned
    of what a workbook cannot hold."""
    if isinstance(value, str):
        sheet.cell(row=row, column=column, value=writable(value)).data_type = "s"
    else:
        sheet.cell(row=row, column=column, value=value)
