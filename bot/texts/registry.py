"""How the registry reads to a person: import reports, lists and the export workbook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlmodel import Session

from bot.i18n import N_, _
from bot.texts.problems import render
from storage import links, registry
from storage.identifiers import display_phone
from storage.registry_import import ImportReport, Outcome, RowResult
from storage.xlsx import write_table

OUTCOME_TEXT = {
    Outcome.CREATED: N_("created"),
    Outcome.UPDATED: N_("updated"),
    Outcome.UNCHANGED: N_("unchanged"),
    Outcome.REJECTED: N_("rejected"),
}
FIELD_TEXT = {
    "name": N_("name"),
    "zone": N_("zone"),
    "address": N_("address"),
    "active": N_("reactivated"),
    "contact": N_("contact"),
}


def row_line(result: RowResult) -> str:
    """One line per row: its number, what happened, and every reason."""
    who = " ".join(p for p in (result.tax_code, result.name) if p) or "—"
    outcome = _(OUTCOME_TEXT[result.outcome])
    if result.changed and result.outcome == Outcome.UPDATED:
        outcome += " (" + ", ".join(_(FIELD_TEXT[f]) for f in result.changed) + ")"
    line = _("Row %(row)s — %(outcome)s: %(who)s") % {
        "row": result.row,
        "outcome": outcome,
        "who": who,
    }
    reasons = [render(p.code, p.params) for p in result.problems + result.notes]
    return "\n".join([line, *("    " + r for r in reasons)])


def report_lines(report: ImportReport) -> Iterator[str]:
    """The per-row report, then the totals and whether anything was saved."""
    yield _("Sheet “%(sheet)s”, header on row %(row)s.") % {
        "sheet": report.sheet,
        "row": report.header_row,
    }
    unknown = unknown_zones(report)
    for result in report.rows:
        if unknown and held_by_zone(result):
            continue  # said once, below, for every row it holds back
        yield row_line(result)
    if unknown:
        yield zones_line(unknown)
    yield _(
        "Total: %(created)s created, %(updated)s updated, %(unchanged)s unchanged,"
        " %(rejected)s rejected."
    ) % {
        "created": report.count(Outcome.CREATED),
        "updated": report.count(Outcome.UPDATED),
        "unchanged": report.count(Outcome.UNCHANGED),
        "rejected": report.count(Outcome.REJECTED),
    }
    if report.saved and report.count(Outcome.REJECTED):
        yield _("Saved. Correct the rejected rows and import the file again; saved rows stay.")
    elif report.saved:
        yield _("Saved.")
    else:
        yield _("Trial run: nothing was saved.")


def unknown_zones(report: ImportReport) -> dict[str, int]:
    """Zones the file names that the list lacks, with how many rows name each."""
    found: dict[str, int] = {}
    for result in report.rows:
        for problem in result.problems:
            if problem.code == "zone_unknown":
                zone = str(problem.params.get("zone", ""))
                found[zone] = found.get(zone, 0) + 1
    return found


def held_by_zone(result: RowResult) -> bool:
    """A row held back only by a zone the list lacks (said once for all such rows)."""
    return [p.code for p in result.problems] == ["zone_unknown"]


def zones_line(unknown: dict[str, int]) -> str:
    """One line for all rows held back by zones the list lacks, and how to add them."""
    return _(
        "%(n)s industrial zones are not in the list yet: %(zones)s (%(rows)s rows). Add them with"
        " `thidua zones add`, or import again with `--create-zones`."
    ) % {
        "n": len(unknown),
        "zones": ", ".join(unknown),
        "rows": sum(unknown.values()),
    }


def export_registry(session: Session, path: Path) -> int:
    """Writes the registry as a workbook that imports back unchanged; returns the row count."""
    contacts: dict[int, list[tuple[str, str]]] = {}
    linked: set[int] = set()
    linked_contacts = links.linked_contact_ids(session=session)
    for contact in registry.list_contacts(session=session):
        if contact.enterprise_id is None:
            continue
        phone = display_phone(contact.phone) if contact.phone else ""
        contacts.setdefault(contact.enterprise_id, []).append((contact.full_name, phone))
        if contact.id in linked_contacts:
            linked.add(contact.enterprise_id)
    rows = []
    for number, (enterprise, zone) in enumerate(registry.list_enterprises(session=session), 1):
        assert enterprise.id is not None
        first = contacts.get(enterprise.id, [("", "")])[0]
        rows.append(
            [
                number,
                enterprise.tax_code,
                enterprise.name,
                zone.name if zone else "",
                enterprise.address or "",
                first[0],
                first[1],
                _("yes") if enterprise.id in linked else _("no"),
                _("active") if enterprise.active else _("inactive"),
            ]
        )
    write_table(
        path,
        title=_("LIST OF ENTERPRISES IN THE INDUSTRIAL ZONES"),
        sheet_name=_("Enterprises"),
        header=[
            _("No."),
            _("Tax code"),
            _("Enterprise name"),
            _("Industrial zone"),
            _("Address"),
            _("Contact person"),
            _("Phone"),
            _("Linked in chat"),
            _("Status"),
        ],
        rows=rows,
        widths=(6, 16, 48, 24, 40, 24, 16, 14, 12),
    )
    return len(rows)
