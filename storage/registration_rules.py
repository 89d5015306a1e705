"""The catalogue's checks on a whole registration: warnings with their legal basis, not refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from storage import catalogue
from storage.catalogue import CSTDCS_MAX_SHARE, LEGAL_BASIS
from storage.models import Nominee, NomineeKind, Regime
from storage.text import search_key, tone_key

if TYPE_CHECKING:
    from storage.results import History


@dataclass(frozen=True)
class Warning:
    """A rule a registration seems to break; shown to the contact and the board."""

    code: str
    params: dict[str, object] = field(default_factory=dict)
    basis: str = ""


def check(
    regime: str, rows: Sequence[Nominee], history: History | None = None, year: int = 0
) -> list[Warning]:
    """Runs every rule of the regime over a registration's rows; with the enterprise's awards
    on record (``history``) also the rules that need earlier years than ``year``."""
    chosen = Regime(regime)
    basis = LEGAL_BASIS.get(chosen, {})
    people = [r for r in rows if r.kind == NomineeKind.INDIVIDUAL]
    groups = [r for r in rows if r.kind == NomineeKind.COLLECTIVE]
    warnings: list[Warning] = []
    warnings += _duplicates(people, NomineeKind.INDIVIDUAL) + _duplicates(
        groups, NomineeKind.COLLECTIVE
    )
    cstdcs = [p for p in people if p.title_code == catalogue.CSTDCS.code]
    ldtt = [p for p in people if p.title_code == catalogue.LDTT.code]
    title = catalogue.by_code(regime, catalogue.CSTDCS.code)
    without = [p.name for p in cstdcs if not p.initiative]
    if without:
        code = "cstdcs_needs_initiative" if title and title.needs_initiative else "cstdcs_basis"
        warnings.append(
            Warning(
                code,
                {"names": ", ".join(without[:10]), "n": len(without)},
                basis.get("cstdcs_initiative", ""),
            )
        )
    share = CSTDCS_MAX_SHARE.get(chosen)
    holders = len(ldtt) + len(cstdcs)  # a CSTĐCS is also a Lao động tiên tiến
    if share is not None and holders and Decimal(len(cstdcs)) > share * holders:
        warnings.append(
            Warning(
                "cstdcs_ratio",
                {"n": len(cstdcs), "holders": holders, "percent": int(share * 100)},
                basis.get("cstdcs_ratio", ""),
            )
        )
    # each collective's own people: the whole list for the company itself, else those whose
    # "Chức vụ, đơn vị" names the unit ("Kỹ sư, Phòng Kỹ thuật" is of "Phòng Kỹ thuật")
    excellent = [g for g in groups if g.title_code == catalogue.TT_LDXS.code]
    without = [g.name for g in excellent if not any(
        p.title_code == catalogue.CSTDCS.code for p in members_of(g, people)
    )]  # fmt: skip
    if without:
        warnings.append(
            Warning(
                "ttldxs_needs_cstdcs",
                {"names": ", ".join(without[:10])},
                basis.get("ttldxs_needs_cstdcs", ""),
            )
        )
    warnings += _shares(groups, people, chosen, basis)
    companies = [
        g.name for g in groups
        if g.title_code == catalogue.TT_LDTT.code and catalogue.names_a_company(g.name)
    ]  # fmt: skip
    if companies and "ttldtt_for_units" in basis:
        warnings.append(
            Warning("ttldtt_for_units", {"names": ", ".join(companies[:10])},
                    basis["ttldtt_for_units"])
        )  # fmt: skip
    flags = [  # one whose cluster is written is for the board to read, not to warn about
        g.name for g in groups
        if catalogue.CO_TINH.code in (g.title_code, g.award_code) and not g.basis
    ]  # fmt: skip
    if flags:
        warnings.append(
            Warning("co_tinh_cluster", {"names": ", ".join(flags[:10])},
                    basis.get("co_tinh_cluster", ""))
        )  # fmt: skip
    if history is not None:
        warnings += _earlier_years(people, history, year, basis)
    return warnings


# Titles that need CSTĐCS in earlier years: the years before the campaign's, and the rule.
EARLIER_YEARS = {
    catalogue.CSTD_TINH.code: (2, "cstd_tinh_history"),  # three in a row, this year the third
    catalogue.BK_TINH.code: (1, "bk_tinh_history"),  # two in a row: one basis of several
}
EARLIER_SHORT = {t.code: t.short for t in (catalogue.CSTD_TINH, catalogue.BK_TINH)}
COUNTS_AS_CSTDCS = {catalogue.CSTDCS.code, catalogue.CSTD_TINH.code}


def _earlier_years(
    people: Sequence[Nominee], history: History, year: int, basis: dict[str, str]
) -> list[Warning]:
    """CSTĐ tỉnh and BK tỉnh against the nominee's CSTĐCS of earlier years on record; a year
    with no results on record, or records of namesakes, is said, never guessed."""
    found: list[Warning] = []
    for person in people:
        title = next(
            (c for c in (person.title_code, person.award_code) if c in EARLIER_YEARS), None
        )
        if title is None:
            continue
        back, code = EARLIER_YEARS[title]
        needed = [year - n for n in range(back, 0, -1)]
        short = EARLIER_SHORT[title]
        unknown = [y for y in needed if y not in history.recorded_years]
        if unknown and person.basis:
            continue  # years not on record, but written with the proposal: the board reads them
        if unknown:
            params: dict[str, object] = {
                "name": person.name,
                "title": short,
                "years": ", ".join(map(str, unknown)),
            }
            found.append(Warning("history_not_recorded", params, basis.get(code, "")))
            continue
        awards, ambiguous = history.of(person.kind, person.name, person.position)
        if ambiguous:
            found.append(Warning("history_ambiguous", {"name": person.name}))
            continue
        years = sorted({a.year for a in awards if a.code in COUNTS_AS_CSTDCS})
        if code == "bk_tinh_history" and person.basis:
            continue  # another basis of Đ.3 k3 is written with the proposal
        if any(y not in years for y in needed):
            # no year at all on record is said so, not as an empty list of years
            said = f"{code}_none" if not years and code == "cstd_tinh_history" else code
            params = {"name": person.name, "years": ", ".join(map(str, years)),
                      "needed": ", ".join(map(str, needed))}  # fmt: skip
            found.append(Warning(said, params, basis.get(code, "")))
    return found


def members_of(group: Nominee, people: Sequence[Nominee]) -> list[Nominee]:
    """The listed people of a collective: all of them for the company itself, else those
    whose post and unit name it."""
    if catalogue.names_a_company(group.name):
        return list(people)
    unit = f" {search_key(group.name)} "  # whole words: "Tổ 1" is not "Tổ 12"
    return [p for p in people if unit.strip() and unit in f" {search_key(p.position or '')} "]


# The share of a collective's members who must be LĐTT (or better), per regime and title.
LDTT_SHARE: dict[Regime, dict[str, tuple[Decimal, bool]]] = {  # (share, strictly more than)
    Regime.ND91_2017: {catalogue.TT_LDTT.code: (Decimal("0.5"), True),
                       catalogue.TT_LDXS.code: (Decimal("0.7"), False)},
    Regime.ND98_2023: {catalogue.TT_LDTT.code: (Decimal("0.7"), False),
                       catalogue.TT_LDXS.code: (Decimal("0.7"), False)},
    Regime.ND152_2025: {catalogue.TT_LDTT.code: (Decimal("0.7"), False),
                        catalogue.TT_LDXS.code: (Decimal("0.7"), False)},
}  # fmt: skip
_HOLDS_LDTT = {catalogue.LDTT.code, catalogue.CSTDCS.code, catalogue.CSTD_TINH.code}


def _shares(
    groups: Sequence[Nominee], people: Sequence[Nominee], regime: Regime, basis: dict[str, str]
) -> list[Warning]:
    """Collectives whose headcount is given: enough of their members registered LĐTT?"""
    found: list[Warning] = []
    for group in groups:
        wanted = LDTT_SHARE.get(regime, {}).get(group.title_code)
        if wanted is None or not group.members:
            continue
        share, strictly = wanted
        holders = sum(1 for p in members_of(group, people) if p.title_code in _HOLDS_LDTT)
        low = holders <= share * group.members if strictly else holders < share * group.members
        if low:
            params: dict[str, object] = {
                "name": group.name, "holders": holders, "members": group.members,
                "percent": int(share * 100),
            }  # fmt: skip
            code = "collective_ldtt_share_more" if strictly else "collective_ldtt_share"
            found.append(Warning(code, params, basis.get("collective_ldtt_share", "")))
    return found


def _duplicates(rows: Sequence[Nominee], kind: NomineeKind) -> list[Warning]:
    """Names that appear twice once tone placement and case are folded ("Hoà" = "Hòa")."""
    seen: dict[str, str] = {}
    found: list[Warning] = []
    for row in rows:
        key = tone_key(row.name)
        if key in seen:
            found.append(
                Warning(
                    "duplicate_name", {"name": row.name, "first": seen[key], "kind": kind.value}
                )
            )
        else:
            seen[key] = row.name
    return found
