"""Imports the board's enterprise list from the spreadsheets it really has."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.engine import trial
from storage.headers import HEADER_SCAN_ROWS, cell, find_header, header_field
from storage.identifiers import IdentifierError, parse_phone, parse_tax_code
from storage.models import Contact, Enterprise, IndustrialZone, Role
from storage.registry import zone_display, zone_key
from storage.tabular import Row, TableFileError, is_blank, read_sheets
from storage.text import nfc, search_key, tone_key

# Folded header spellings seen in boards' files; the longest match wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "ten doanh nghiep",
        "ten dn",
        "doanh nghiep",
        "ten cong ty",
        "ten don vi",
        "ten to chuc",
        "don vi",
        "company",
        "company name",
        "enterprise name",
        "enterprise",
        "name",
    ),
    "tax_code": (
        "ma so thue",
        "mst",
        "ma so doanh nghiep",
        "ma so dn",
        "ma dn",
        "ma so thue dn",
        "ma so thue doanh nghiep",
        "tax code",
        "tax id",
    ),
    "zone": (
        "khu cong nghiep",
        "kcn",
        "thuoc kcn",
        "ten kcn",
        "ten khu cong nghiep",
        "kcn ccn",
        "dia ban kcn",
        "zone",
        "industrial zone",
    ),
    "address": ("dia chi", "dia chi tru so", "dia chi tru so chinh", "tru so", "address"),
    "contact_name": (
        "nguoi lien he",
        "ho ten nguoi lien he",
        "ho va ten nguoi lien he",
        "dau moi",
        "dau moi lien he",
        "can bo phu trach",
        "nguoi phu trach",
        "contact",
        "contact name",
        "contact person",
    ),
    "phone": (
        "dien thoai",
        "so dien thoai",
        "sdt",
        "dt",
        "so dt",
        "dien thoai lien he",
        "dtdd",
        "di dong",
        "phone",
        "mobile",
    ),
    "email": ("email", "e mail", "thu dien tu", "email lien he"),
}
REQUIRED = ("name", "tax_code")


class Outcome(StrEnum):
    """What happened to one row."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Problem:
    """A reason code with its parameters, rendered in the user's language by the bot."""

    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class RowResult:
    """The fate of one spreadsheet row (1-based, as the user sees it in Excel)."""

    row: int
    outcome: Outcome
    tax_code: str | None = None
    name: str | None = None
    changed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


@dataclass
class ImportReport:
    """Per-row results of one file, and whether they were saved."""

    sheet: str
    header_row: int
    columns: dict[str, int]
    rows: list[RowResult] = field(default_factory=list)
    saved: bool = False

    def count(self, outcome: Outcome) -> int:
        """How many rows ended with ``outcome``."""
        return sum(1 for r in self.rows if r.outcome == outcome)


def _text(row: Row, columns: dict[str, int], name: str) -> str | None:
    """A cell as NFC text, or None when absent or blank."""
    position = columns.get(name)
    if position is None or position >= len(row) or row[position] is None:
        return None
    value = row[position]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = nfc(str(value))
    return text or None


def _raw(row: Row, columns: dict[str, int], name: str) -> object:
    return cell(row, columns, name)


class _Registry:
    """The registry preloaded once, with new rows batched, so a big file costs a few queries."""

    def __init__(self, session: Session) -> None:
        self.enterprises = {e.tax_code: e for e in session.exec(select(Enterprise))}
        self.zones = {z.key: z for z in session.exec(select(IndustrialZone))}
        self.contacts: dict[int, list[Contact]] = {}
        for contact in session.exec(select(Contact).where(Contact.role == Role.CONTACT)):
            if contact.enterprise_id is not None:
                self.contacts.setdefault(contact.enterprise_id, []).append(contact)
        self.new_enterprises: dict[str, dict[str, object]] = {}
        self.new_contacts: list[tuple[str, dict[str, object]]] = []

    def insert_new(self, session: Session) -> None:
        """Inserts the batched enterprises, then their contacts, in two statements."""
        if self.new_enterprises:
            inserted = session.execute(
                insert(Enterprise).returning(col(Enterprise.tax_code), col(Enterprise.id)),
                list(self.new_enterprises.values()),
            )
            ids: dict[str, int] = {tax_code: id_ for tax_code, id_ in inserted.all()}
            existing = {e.tax_code: e.id for e in self.enterprises.values()}
            rows = [
                {**values, "enterprise_id": ids.get(tax_code) or existing[tax_code]}
                for tax_code, values in self.new_contacts
            ]
            if rows:
                session.execute(insert(Contact), rows)
        elif self.new_contacts:
            session.execute(
                insert(Contact),
                [
                    {**values, "enterprise_id": self.enterprises[tax_code].id}
                    for tax_code, values in self.new_contacts
                ],
            )


def import_enterprises(
    *,
    session: Session,
    path: Path,
    now: datetime,
    create_zones: bool = False,
    dry_run: bool = False,
    max_bytes: int = 20 * 1024 * 1024,
    max_rows: int = 50_000,
    commit: bool = True,
) -> ImportReport:
    """Upserts enterprises by MST from one file in one transaction; bad rows never block good ones.

    Raises TableFileError when the file as a whole cannot be read; nothing is stored then, and
    the caller's transaction goes on. With ``commit=False`` the caller commits, together with
    whatever else it wrote.
    """
    for sheet, rows in read_sheets(path, max_bytes=max_bytes):
        found = find_header(rows, ALIASES, REQUIRED)
        if found is None:
            continue
        header_row, columns = found
        report = ImportReport(sheet=sheet, header_row=header_row, columns=columns)
        with trial(session, keep=not dry_run):  # a refused file undoes only its own rows
            _apply_rows(session, report, rows, now, create_zones=create_zones, max_rows=max_rows)
        if not dry_run and commit:
            session.commit()
        report.saved = not dry_run
        return report
    raise TableFileError("file_no_header", scanned=HEADER_SCAN_ROWS)


def _apply_rows(
    session: Session,
    report: ImportReport,
    rows: Iterator[Row],
    now: datetime,
    *,
    create_zones: bool,
    max_rows: int,
) -> None:
    """Validates and applies each data row after the header."""
    registry = _Registry(session)
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=report.header_row + 1):
        if number - report.header_row > max_rows:
            raise TableFileError("file_too_many_rows", limit=max_rows)
        if is_blank(row):
            continue
        tax_cell = _raw(row, report.columns, "tax_code")
        if isinstance(tax_cell, str) and not any(ch.isdigit() for ch in tax_cell):
            if header_field(tax_cell, ALIASES) == "tax_code":
                continue  # the header repeated (a file pasted together from pages)
        if _is_totals(row, report.columns, tax_cell):
            continue  # "Tổng cộng: 300 doanh nghiệp" closes many lists
        result = _apply_row(session, registry, row, number, report.columns, seen, now, create_zones)
        report.rows.append(result)
    session.flush()
    registry.insert_new(session)


_TOTALS = re.compile(r"^(tong cong|cong|tong so|total)(?! ty)\b")  # not "Tổng công ty X"


def _is_totals(row: Row, columns: dict[str, int], tax_cell: object) -> bool:
    """A closing totals row: no tax code, and a name cell (or the first cell) saying so."""
    if tax_cell not in (None, "") and any(ch.isdigit() for ch in str(tax_cell)):
        return False
    texts = [_text(row, columns, "name"), str(row[0]) if row and row[0] is not None else ""]
    return any(_TOTALS.match(search_key(t or "")) for t in texts)


def _apply_row(
    session: Session,
    registry: _Registry,
    row: Row,
    number: int,
    columns: dict[str, int],
    seen: dict[str, int],
    now: datetime,
    create_zones: bool,
) -> RowResult:
    """Validates one row and creates or updates its enterprise and contact."""
    name = _text(row, columns, "name")
    result = RowResult(row=number, outcome=Outcome.REJECTED, name=name)
    try:
        tax = parse_tax_code(_raw(row, columns, "tax_code"))
        result.tax_code = tax.value
        if tax.restored_leading_zero:
            result.notes.append(Problem("tax_code_zero_restored", {"value": tax.value}))
    except IdentifierError as exc:
        result.problems.append(Problem(exc.code, {"value": exc.value}))
    if not name:
        result.problems.append(Problem("name_empty"))
    elif not any(ch.isalpha() for ch in name):
        result.problems.append(Problem("name_no_letters", {"value": name}))
    zone_name = _text(row, columns, "zone")
    zone: IndustrialZone | None = None
    if zone_name:
        zone = registry.zones.get(zone_key(zone_name))
        if zone is None and create_zones and zone_key(zone_name):
            zone = IndustrialZone(name=zone_display(zone_name), key=zone_key(zone_name))
            session.add(zone)
            session.flush()
            registry.zones[zone.key] = zone
            result.notes.append(Problem("zone_created", {"zone": zone_name}))
        elif zone is None:
            result.problems.append(Problem("zone_unknown", {"zone": zone_name}))
    if result.tax_code and result.tax_code in seen:
        result.problems.append(Problem("duplicate_row", {"first_row": seen[result.tax_code]}))
    if result.problems:
        return result
    assert result.tax_code is not None and name is not None
    seen[result.tax_code] = number
    address = _text(row, columns, "address")
    enterprise = registry.enterprises.get(result.tax_code)
    if enterprise is None:
        registry.new_enterprises[result.tax_code] = {
            "tax_code": result.tax_code,
            "name": name,
            "name_key": search_key(name),
            "zone_id": zone.id if zone else None,
            "address": address,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        result.outcome = Outcome.CREATED
    else:
        result.changed = _update_enterprise(enterprise, name, zone, address, now)
        result.outcome = Outcome.UPDATED if result.changed else Outcome.UNCHANGED
    _upsert_contact(registry, enterprise, row, columns, result, now)
    return result


def _update_enterprise(
    enterprise: Enterprise,
    name: str,
    zone: IndustrialZone | None,
    address: str | None,
    now: datetime,
) -> list[str]:
    """Applies the row's non-blank values; returns the names of changed fields."""
    changed = []
    if enterprise.name != name:
        enterprise.name, enterprise.name_key = name, search_key(name)
        changed.append("name")
    if zone is not None and enterprise.zone_id != zone.id:
        enterprise.zone_id = zone.id
        changed.append("zone")
    if address and enterprise.address != address:
        enterprise.address = address
        changed.append("address")
    if not enterprise.active:
        enterprise.active = True
        changed.append("active")
    if changed:
        enterprise.updated_at = now
    return changed


def _upsert_contact(
    registry: _Registry,
    enterprise: Enterprise | None,
    row: Row,
    columns: dict[str, int],
    result: RowResult,
    now: datetime,
) -> None:
    """Creates or refreshes the row's contact person; a bad phone is noted, not fatal."""
    contact_name = _text(row, columns, "contact_name")
    raw_phone = _raw(row, columns, "phone")
    phone: str | None = None
    if raw_phone not in (None, ""):
        try:
            phone = parse_phone(raw_phone)
        except IdentifierError as exc:
            result.notes.append(Problem("phone_ignored", {"value": exc.value}))
    email = _text(row, columns, "email")
    if not contact_name or not any(ch.isalpha() for ch in contact_name):
        if phone or email:
            result.notes.append(Problem("contact_without_name"))
        return
    known = registry.contacts.get(enterprise.id, []) if enterprise and enterprise.id else []
    match = next(
        (
            c
            for c in known
            if (phone and c.phone == phone) or tone_key(c.full_name) == tone_key(contact_name)
        ),
        None,
    )
    if match is None:
        assert result.tax_code is not None
        registry.new_contacts.append(
            (
                result.tax_code,
                {
                    "full_name": contact_name,
                    "phone": phone,
                    "email": email,
                    "role": Role.CONTACT.value,
                    "created_at": now,
                },
            )
        )
        if result.outcome != Outcome.CREATED:
            result.changed.append("contact")
            result.outcome = Outcome.UPDATED
        return
    before = (match.full_name, match.phone, match.email)
    match.full_name = contact_name
    match.phone = phone or match.phone
    match.email = email or match.email
    if (match.full_name, match.phone, match.email) != before:
        result.changed.append("contact")
        result.outcome = Outcome.UPDATED
