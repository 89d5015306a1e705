"""The year's results in words: the per-row report of a results file, an enterprise's results,
and awards on record from past years."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.i18n import N_, _, fmt_day, fmt_number
from bot.texts.problems import render
from storage import catalogue
from storage.models import Conferrer, NomineeKind
from storage.registry_import import Outcome
from storage.results import PastAward, Standing
from storage.results_sheet import ResultsReport

CONFERRER_TEXT = {
    Conferrer.ENTERPRISE: N_("the enterprise's director"),
    Conferrer.BOARD: N_("the board's head"),
    Conferrer.PROVINCE: N_("the provincial People's Committee"),
    Conferrer.CENTRAL: N_("the central level"),
}
OUTCOME_TEXT = {
    Outcome.CREATED: N_("recorded"),
    Outcome.UPDATED: N_("corrected"),
    Outcome.UNCHANGED: N_("unchanged"),
    Outcome.REJECTED: N_("not taken"),
}


def conferrer_name(value: str) -> str:
    """Who decided, in words."""
    known = {c.value: c for c in Conferrer}
    return _(CONFERRER_TEXT[known[value]]) if value in known else value


def report_lines(report: ResultsReport) -> Iterator[str]:
    """Each row that was not simply recorded, then the totals and whether anything was saved."""
    yield _("Sheet “%(sheet)s”, header on row %(row)s.") % {
        "sheet": report.sheet,
        "row": report.header_row,
    }
    for result in report.rows:
        if result.outcome == Outcome.REJECTED or result.problems:
            line = _("Row %(row)s — %(outcome)s: %(who)s") % {
                "row": result.row, "outcome": _(OUTCOME_TEXT[result.outcome]),
                "who": result.name or "—",
            }  # fmt: skip
            yield "\n".join([line, *("    " + render(p.code, p.params) for p in result.problems)])
    yield _(
        "Total: %(created)s recorded, %(updated)s corrected, %(unchanged)s unchanged,"
        " %(rejected)s not taken, %(pending)s still without a result."
    ) % {
        "created": report.count(Outcome.CREATED),
        "updated": report.count(Outcome.UPDATED),
        "unchanged": report.count(Outcome.UNCHANGED),
        "rejected": report.count(Outcome.REJECTED),
        "pending": report.pending,
    }
    if report.saved and report.count(Outcome.REJECTED):
        yield _("Saved. Correct the rows not taken and send the file again; saved rows stay.")
    elif report.saved:
        yield _("Saved.")
    else:
        yield _("Trial run: nothing was saved.")


def standing_lines(regime: str, year: int, enterprise: str, standing: Standing) -> list[str]:
    """An enterprise's results of the year: counts, what was conferred, the decisions."""
    lines = [
        _("Commendation results of %(year)s for %(enterprise)s:")
        % {"year": year, "enterprise": enterprise},
        _("%(recognised)s of %(proposed)s proposals recognised, %(refused)s not recognised,"
          " %(pending)s still awaiting a decision.")
        % {"recognised": fmt_number(standing.recognised), "proposed": fmt_number(standing.proposed),
           "refused": fmt_number(standing.refused), "pending": fmt_number(standing.pending)},
    ]  # fmt: skip
    if standing.by_code:
        conferred = ", ".join(
            f"{catalogue.short_name(regime, code)} {fmt_number(n)}"
            for code, n in sorted(standing.by_code.items())
        )
        lines.append(_("Conferred: %(list)s.") % {"list": conferred})
    for number, day, by in standing.decisions:
        lines.append(
            _("Decision No. %(number)s of %(day)s (%(by)s).")
            % {"number": number, "day": fmt_day(day) if day else "—", "by": conferrer_name(by)}
        )
    return lines


def past_lines(awards: Sequence[PastAward], regime: str) -> list[str]:
    """Awards on record, one person or collective per paragraph, newest year first."""
    if not awards:
        return [_("No award on record for that name.")]
    groups: dict[tuple[int, str], list[PastAward]] = {}
    for award in awards:
        groups.setdefault((award.enterprise_id, award.person_key), []).append(award)
    lines: list[str] = []
    for held in groups.values():
        first = held[0]
        who = first.name + (f", {first.position}" if first.position else "")
        kind = _("collective") if first.kind == NomineeKind.COLLECTIVE else _("individual")
        lines.append(f"• {who} ({kind}) — {first.enterprise}, MST {first.tax_code}")
        for award in sorted(held, key=lambda a: (-a.year, a.code)):
            decision = ""
            if award.decision_number:
                decision = " — " + _("Decision No. %(number)s of %(day)s") % {
                    "number": award.decision_number,
                    "day": fmt_day(award.decision_date) if award.decision_date else "—",
                }
            lines.append(f"   {award.year}: {catalogue.short_name(regime, award.code)}{decision}")
    return lines
