"""The catalogue's checks on a whole registration: warnings with their legal basis, not refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from storage import catalogue
from storage.catalogue import CSTDCS_MAX_SHARE, LEGAL_BASIS
from storage.models import Nominee, NomineeKind, Regime
from storage.text import tone_key


@dataclass(frozen=True)
class Warning:
    """A rule a registration seems to break; shown to the contact and the board."""

    code: str
    params: dict[str, object] = field(default_factory=dict)
    basis: str = ""


def check(regime: str, rows: Sequence[Nominee]) -> list[Warning]:
    """Runs every rule of the regime over a registration's rows."""
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
    excellent = [g.name for g in groups if g.title_code == catalogue.TT_LDXS.code]
    if excellent and not cstdcs:
        warnings.append(
            Warning(
                "ttldxs_needs_cstdcs",
                {"names": ", ".join(excellent[:10])},
                basis.get("ttldxs_needs_cstdcs", ""),
            )
        )
    return warnings


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
