"""The results workbook: every proposal of a campaign in the official order with empty result
columns for the board to fill, and the same file read back, row by row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from storage import catalogue, exports, results
from storage.engine import trial
from storage.headers import HEADER_SCAN_ROWS, cell, find_header
from storage.identifiers import IdentifierError, parse_tax_code
from storage.models import AwardResult, Campaign, Conferrer, NomineeKind
from storage.registry_import import Outcome as RowOutcome
from storage.registry_import import Problem
from storage.results import Decision, Outcome, Proposal
from storage.tabular import Row, TableFileError, is_blank, read_sheets
from storage.text import clip, nfc, parse_day, search_key, tone_key
from storage.xlsx import header_row, number_cell, safe_row, set_widths, text_cell, whole_workbook

SHEET = "Kết quả"
HEADER = ("STT", "Mã số thuế", "Doanh nghiệp", "Số tiếp nhận", "Cá nhân/Tập thể",
          "Họ và tên, tên tập thể", "Chức vụ, đơn vị", "Đề nghị", "Cấp quyết định",
          "Được công nhận (Có/Không)", "Danh hiệu, hình thức được tặng", "Số quyết định",
          "Ngày quyết định")  # fmt: skip
HOW_TO = (
    "Điền cột “Được công nhận” (Có/Không) cho từng dòng; cột “Danh hiệu, hình thức được tặng”"
    " chỉ khi khác đề nghị; số và ngày quyết định (ngày/tháng/năm). Dòng để trống là chưa có"
    " kết quả. Không sửa các cột từ Mã số thuế đến Đề nghị."
)
KIND_WORDS = {NomineeKind.INDIVIDUAL: "Cá nhân", NomineeKind.COLLECTIVE: "Tập thể"}
CONFERRER_WORDS = {
    Conferrer.ENTERPRISE: "Doanh nghiệp",
    Conferrer.BOARD: "Ban Quản lý",
    Conferrer.PROVINCE: "UBND tỉnh",
    Conferrer.CENTRAL: "Trung ương",
}
_CONFERRER_KEYS = {
    **{search_key(w): c for c, w in CONFERRER_WORDS.items()},
    "giam doc": Conferrer.ENTERPRISE, "dn": Conferrer.ENTERPRISE,
    "ban quan ly cac kcn": Conferrer.BOARD, "bql": Conferrer.BOARD,
    "truong ban": Conferrer.BOARD, "tinh": Conferrer.PROVINCE,
    "chu tich ubnd tinh": Conferrer.PROVINCE, "ubnd": Conferrer.PROVINCE,
    "thu tuong": Conferrer.CENTRAL, "chu tich nuoc": Conferrer.CENTRAL,
}  # fmt: skip
_YES = {"co", "x", "yes", "y", "1", "true", "dat", "duoc", "duoc cong nhan", "cong nhan"}
_NO = {"khong", "k", "no", "n", "0", "false", "khong dat", "khong duoc", "khong cong nhan"}

ALIASES: dict[str, tuple[str, ...]] = {
    "tax_code": ("ma so thue", "mst", "ma so doanh nghiep"),
    "kind": ("ca nhan tap the", "loai", "doi tuong"),
    "name": ("ho va ten ten tap the", "ho va ten", "ho ten", "ten tap the", "ten ca nhan tap the"),
    "position": ("chuc vu don vi", "chuc vu", "don vi cong tac"),
    "proposed": ("de nghi", "danh hieu hinh thuc de nghi", "danh hieu de nghi"),
    "conferrer": ("cap quyet dinh", "cap khen", "cap khen thuong", "co quan quyet dinh"),
    "recognised": ("duoc cong nhan", "ket qua", "cong nhan"),
    "conferred": ("danh hieu hinh thuc duoc tang", "duoc tang", "danh hieu duoc tang"),
    "number": ("so quyet dinh", "so qd", "quyet dinh so"),
    "day": ("ngay quyet dinh", "ngay qd", "ngay ky"),
}
REQUIRED = ("tax_code", "name", "proposed", "recognised")


def export_results(
    *,
    session: Session,
    campaign: Campaign,
    path: Path,
    made_on: date | None = None,
    enterprise_id: int | None = None,
    conferrer: Conferrer | None = None,
) -> int:
    """Writes the campaign's proposals (one enterprise's, those one level decides, if given)
    with their results so far (empty where none); returns how many proposals."""
    names = {t.code: t.name for t in catalogue.catalogue(campaign.regime)}
    only = None if enterprise_id is None else [enterprise_id]
    found = results.proposals(session, campaign, only)
    if conferrer is not None:
        found = [p for p in found if p.conferrer == conferrer]
    known = results.recorded(session, campaign, only)
    book = Workbook(write_only=True)
    with whole_workbook(book, path):
        sheet = book.create_sheet(SHEET)
        sheet.freeze_panes = "D6"
        set_widths(sheet, (6, 13, 32, 15, 11, 26, 26, 30, 14, 14, 30, 18, 14))
        sheet.append([text_cell(sheet, f"KẾT QUẢ KHEN THƯỞNG NĂM {campaign.year}", bold=True)])
        sheet.append([text_cell(sheet, campaign.board_name)])
        sheet.append([text_cell(sheet, HOW_TO)])
        sheet.append([text_cell(sheet, exports.made_words(made_on))])
        sheet.append(header_row(sheet, HEADER))
        for number, proposal in enumerate(found, start=1):
            row: AwardResult | None = known.get(proposal.key)
            outcome = ("Có" if row.recognised else "Không") if row else ""
            conferred = ""
            if row is not None and row.recognised and row.conferred_code != proposal.code:
                conferred = names.get(row.conferred_code or "", row.conferred_code or "")
            conferrer = Conferrer(row.conferred_by) if row else proposal.conferrer
            values: list[object] = [
                number_cell(sheet, number), proposal.tax_code, proposal.enterprise,
                proposal.reference, KIND_WORDS[NomineeKind(proposal.kind)], proposal.name,
                proposal.position or "", names.get(proposal.code, proposal.code),
                CONFERRER_WORDS[conferrer], outcome, conferred,
                (row.decision_number or "") if row else "",
                row.decision_date.strftime("%d/%m/%Y") if row and row.decision_date else "",
            ]  # fmt: skip
            sheet.append(safe_row(sheet, values))
        if found:
            sheet.auto_filter.ref = f"A5:{get_column_letter(len(HEADER))}{5 + len(found)}"
        sheet.append([None, text_cell(sheet, f"Tổng cộng: {len(found):,} đề nghị".replace(",", "."),
                                      bold=True)])  # fmt: skip
    return len(found)


@dataclass
class ResultRow:
    """The fate of one row of the file (1-based, as Excel shows it)."""

    row: int
    outcome: RowOutcome
    name: str = ""
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ResultsReport:
    """Per-row results of one results file, and what changed."""

    sheet: str
    header_row: int
    rows: list[ResultRow] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # enterprises with a new or changed result
    pending: int = 0  # rows left empty: no result yet
    saved: bool = False

    def count(self, outcome: RowOutcome) -> int:
        """How many rows ended with ``outcome``."""
        return sum(1 for r in self.rows if r.outcome == outcome)


def import_results(
    *,
    session: Session,
    campaign: Campaign,
    path: Path,
    actor: str,
    now: datetime,
    dry_run: bool = False,
    max_bytes: int = 20 * 1024 * 1024,
    enterprise_id: int | None = None,
    conferrer: Conferrer | None = None,
) -> ResultsReport:
    """Records the results a filled workbook gives, matched to the campaign's proposals by tax
    code, name (and post), and what was proposed; bad rows never block good ones. With
    ``enterprise_id`` and ``conferrer`` only that enterprise's proposals that level decides
    are taken, decided by it (a contact's own list). Raises TableFileError when the file as a
    whole cannot be read; nothing is stored then."""
    for sheet, rows in read_sheets(path, max_bytes=max_bytes):
        above: list[Row] = []
        header_at = find_header(_kept(rows, above), ALIASES, REQUIRED)
        if header_at is None:
            continue
        header, columns = header_at
        written = _year_of(above)
        if written is not None and written != campaign.year:
            raise TableFileError("results_other_year", year=written, campaign=campaign.year)
        report = ResultsReport(sheet=sheet, header_row=header)
        with trial(session, keep=not dry_run):
            _apply(session, campaign, report, rows, columns, actor, now, enterprise_id, conferrer)
            session.flush()
        report.saved = not dry_run
        return report
    raise TableFileError("file_no_header", scanned=HEADER_SCAN_ROWS)


def _kept(rows: Iterator[Row], into: list[Row]) -> Iterator[Row]:
    """The rows, each also kept in ``into`` (the title block read before the header)."""
    for row in rows:
        into.append(row)
        yield row


_YEAR = re.compile(r"\bNĂM (\d{4})\b", re.IGNORECASE)


def _year_of(rows: list[Row]) -> int | None:
    """The year the exported title says ("KẾT QUẢ KHEN THƯỞNG NĂM 2026"), if it is there."""
    for row in rows[:4]:
        for value in row[:2]:
            found = _YEAR.search(str(value or ""))
            if found:
                return int(found.group(1))
    return None


def _apply(
    session: Session,
    campaign: Campaign,
    report: ResultsReport,
    rows: Iterator[Row],
    columns: dict[str, int],
    actor: str,
    now: datetime,
    enterprise_id: int | None,
    conferrer: Conferrer | None,
) -> None:
    """Reads each data row after the header and records what it decides."""
    wanted = [enterprise_id] if enterprise_id is not None else None
    proposals = results.proposals(session, campaign, wanted)
    by_tax: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        by_tax.setdefault(proposal.tax_code, []).append(proposal)
    known = results.recorded(session, campaign, wanted)
    seen: dict[tuple[int, str, str, str], int] = {}
    for number, row in enumerate(rows, start=report.header_row + 1):
        if is_blank(row):
            continue
        name = nfc(str(cell(row, columns, "name") or ""))
        if not name and cell(row, columns, "recognised") in (None, ""):
            continue  # a totals or note line: nothing to record
        result = ResultRow(number, RowOutcome.REJECTED, name)
        report.rows.append(result)
        found = _proposal(campaign, row, columns, by_tax, result)
        if found is None:
            continue
        proposal = found
        if proposal.key in seen:
            result.problems.append(Problem("result_duplicate", {"first_row": seen[proposal.key]}))
            continue
        if conferrer is not None and proposal.conferrer != conferrer:
            result.problems.append(Problem("result_decided_elsewhere", {"name": result.name}))
            continue
        seen[proposal.key] = number
        decision = _decision(campaign, row, columns, proposal, result)
        if decision is not None and conferrer is not None:
            conferred = decision.conferred_code
            if conferred and results.default_conferrer(conferred) != conferrer:
                result.problems.append(Problem("result_decided_elsewhere",
                                               {"name": result.name}))  # fmt: skip
                continue  # e.g. a director's list "conferring" a provincial title
            decision = replace(decision, conferrer=conferrer)  # decided at this level only
        if decision is None:
            if not result.problems:  # no result yet: left for later, not an error
                report.rows.pop()
                report.pending += 1
            continue
        outcome = results.record(
            session, campaign, proposal, decision, actor=actor, now=now, known=known
        )
        result.outcome = {
            Outcome.NEW: RowOutcome.CREATED,
            Outcome.CHANGED: RowOutcome.UPDATED,
            Outcome.SAME: RowOutcome.UNCHANGED,
        }[outcome]
        if outcome != Outcome.SAME:
            report.touched.add(proposal.enterprise_id)


def _proposal(
    campaign: Campaign,
    row: Row,
    columns: dict[str, int],
    by_tax: dict[str, list[Proposal]],
    result: ResultRow,
) -> Proposal | None:
    """The proposal a row is about: its enterprise, its nominee and what was proposed."""
    try:
        tax_code = parse_tax_code(cell(row, columns, "tax_code")).value
    except IdentifierError as error:
        result.problems.append(Problem(error.code, {"value": error.value}))
        return None
    candidates = by_tax.get(tax_code)
    if candidates is None:
        result.problems.append(Problem("result_enterprise_unknown", {"value": tax_code}))
        return None
    proposed = nfc(str(cell(row, columns, "proposed") or ""))
    code = _code(campaign, proposed)
    if code is None:
        result.problems.append(Problem("result_title_unknown", {"value": proposed or "—"}))
        return None
    kind_text = search_key(str(cell(row, columns, "kind") or ""))
    kinds = (
        {NomineeKind.COLLECTIVE.value}
        if kind_text.startswith("tap the")
        else (
            {NomineeKind.INDIVIDUAL.value}
            if kind_text.startswith("ca nhan")
            else {NomineeKind.INDIVIDUAL.value, NomineeKind.COLLECTIVE.value}
        )
    )
    name_key = tone_key(result.name)
    same = [
        p for p in candidates
        if p.code == code and p.kind in kinds and tone_key(p.name) == name_key
    ]  # fmt: skip
    if not same:
        result.problems.append(Problem("result_not_proposed", {"name": result.name or "—"}))
        return None
    if len(same) > 1:  # namesakes: the post tells them apart
        position = tone_key(nfc(str(cell(row, columns, "position") or "")))
        same = [p for p in same if tone_key(p.position or "") == position]
        if len(same) != 1:
            result.problems.append(Problem("result_namesakes", {"name": result.name}))
            return None
    return same[0]


def _code(campaign: Campaign, text: str) -> str | None:
    """A title or form of the campaign's catalogue, as the file writes it."""
    title = catalogue.match(campaign.regime, text, award=False) or catalogue.match(
        campaign.regime, text, award=True
    )
    return title.code if title else None


def _decision(
    campaign: Campaign, row: Row, columns: dict[str, int], proposal: Proposal, result: ResultRow
) -> Decision | None:
    """What the row decides; None when its result is left empty (or a cell cannot be read)."""
    said = cell(row, columns, "recognised")
    said_key = search_key(str(said)) if said is not None else ""
    if isinstance(said, bool):
        said_key = "co" if said else "khong"
    if not said_key:
        return None
    if said_key not in _YES | _NO:
        result.problems.append(Problem("result_unclear", {"value": str(said)}))
        return None
    recognised = said_key in _YES
    conferred = proposal.code
    other = nfc(str(cell(row, columns, "conferred") or ""))
    if recognised and other:
        code = _code(campaign, other)
        if code is None:
            result.problems.append(Problem("result_title_unknown", {"value": other}))
            return None
        conferred = code
    conferrer = results.default_conferrer(conferred)
    given = search_key(str(cell(row, columns, "conferrer") or ""))
    if given:
        if given not in _CONFERRER_KEYS:
            words = ", ".join(CONFERRER_WORDS.values())
            result.problems.append(Problem("result_conferrer_unknown",
                                           {"value": given, "choices": words}))  # fmt: skip
            return None
        conferrer = _CONFERRER_KEYS[given]
    day = _day(cell(row, columns, "day"), result)
    if result.problems:
        return None
    number = nfc(str(cell(row, columns, "number") or "")) or None
    return Decision(recognised, conferred if recognised else None,
                    clip(number, 60) if number else None, day, conferrer)  # fmt: skip


def _day(value: object, result: ResultRow) -> date | None:
    """A decision's date: a date cell, or text as dd/mm/yyyy."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    day = parse_day(str(value))
    if day is None:
        result.problems.append(Problem("result_day_unclear", {"value": str(value)}))
    return day
