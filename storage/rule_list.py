"""The rules and prize rates as the README lists them, written from the data they live in (the
catalogue's legal basis, the prize rates, the base salaries), so the list cannot drift from what
the product checks. ``python -m storage.rule_list --write README.md`` rewrites its section."""

from __future__ import annotations

import sys
from pathlib import Path

from storage import catalogue, prizes
from storage.catalogue import LEGAL_BASIS, Subject
from storage.models import Regime

START, END = "<!-- rules:start -->", "<!-- rules:end -->"
REGIMES = (Regime.ND91_2017, Regime.ND98_2023, Regime.ND152_2025)
HEADS = {Regime.ND91_2017: "NĐ 91/2017", Regime.ND98_2023: "NĐ 98/2023",
         Regime.ND152_2025: "NĐ 152/2025 + QĐ 86/2025"}  # fmt: skip
# What each rule checks, in the README's words; the basis per regime is the catalogue's.
RULES = {
    "cstdcs_initiative": "CSTĐCS with no initiative (2020 regime: required; later: one basis"
    " of several, a reminder)",
    "cstdcs_ratio": "CSTĐCS above 15 % of the LĐTT holders",
    "ttldxs_needs_cstdcs": "Tập thể lao động xuất sắc with no CSTĐCS among its own people (those"
    " whose post names the unit; everyone for the company itself)",
    "collective_ldtt_share": "a collective's headcount given: too few of its people LĐTT (TT LĐTT"
    " and TT LĐXS 70 %; 2020 regime: TT LĐTT more than 50 %)",
    "ttldtt_for_units": "Tập thể lao động tiên tiến for the company itself, not one of its units",
    "co_tinh_cluster": "Cờ thi đua: only the leading unit of a cụm or khối thi đua (unless the"
    " cluster is written as the basis)",
    "cstd_tinh_history": "CSTĐ tỉnh without CSTĐCS in the two years before on record (years"
    " not on record: unless written as the basis)",
    "bk_tinh_history": "BK tỉnh without CSTĐCS the year before on record (unless another basis is"
    " written)",
    "attestation": "submitting attests: nobody listed disciplined, investigated or under an"
    " unresolved complaint",
    "duplicate_name": "the same name twice (case and tone placement folded)",
}


def markdown() -> str:
    """The rules' table, then the prize rates' table and the base salaries."""
    lines = [
        "| rule (a warning, shown to the contact and the board) | "
        + " | ".join(HEADS[r] for r in REGIMES)
        + " |",
        "|---|" + "---|" * len(REGIMES),
    ]
    for code, text in RULES.items():
        cells = []
        for regime in REGIMES:
            basis = LEGAL_BASIS.get(regime, {})
            cells.append(basis[code] or "—" if code in basis else "not checked")
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    lines += ["", "| title or form | who | " + " | ".join(HEADS[r] for r in REGIMES) + " |"]
    lines.append("|---|---|" + "---|" * len(REGIMES))
    seen: list[catalogue.Title] = []
    for regime in REGIMES:
        seen += [t for t in catalogue.catalogue(regime) if t.code not in {s.code for s in seen}]
    for title in seen:
        for subject in (Subject.INDIVIDUAL, Subject.COLLECTIVE):
            if not title.fits(subject):
                continue
            cells = []
            for regime in REGIMES:
                rate = prizes.rate(regime, title.code, subject.value)
                cells.append(f"× {rate.multiplier} ({rate.basis})" if rate else "no rate set")
            who = "individual" if subject == Subject.INDIVIDUAL else "collective"
            lines.append(f"| {title.name} | {who} | " + " | ".join(cells) + " |")
    salaries = "; ".join(
        f"{amount:,} đ from {since:%d/%m/%Y}".replace(",", ".")
        for since, amount in prizes.BASE_SALARIES
    )
    step = f"{prizes.ROUND_TO:,}".replace(",", ".")
    lines += [
        "",
        f"Base salary (lương cơ sở) on the decision's day: {salaries}; later ones by"
        f" `THIDUA_BASE_SALARIES`. Each prize is rounded up to {step} đ"
        f" ({prizes.ROUNDING_BASIS}).",
    ]
    return "\n".join(lines)


def section(text: str) -> str:
    """``text`` with the part between the markers replaced by the generated list."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{markdown()}\n{END}{tail}"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        readme = Path(sys.argv[2])
        readme.write_text(section(readme.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown())
