"""The prize each award carries, as data: multipliers of the base salary per regime, title and
subject, with their source; the base salary by date; rounding; and who pays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from storage.models import Regime
from storage.text import parse_day


class Payer(StrEnum):
    """Who confers, and so pays (Luật 06/2022 Đ.80 k4; QĐ 86/2025 Đ.5)."""

    ENTERPRISE = "enterprise"  # the director: LĐTT, CSTĐCS, TT LĐTT, its own Giấy khen
    PROVINCE = "province"  # the province's chairman: TT LĐXS, BK tỉnh, CSTĐ tỉnh, Cờ
    CENTRAL = "central"  # proposed upward: the Prime Minister's Bằng khen, the Huân chương


@dataclass(frozen=True)
class Rate:
    """A prize as a multiple of the base salary, with where it is written."""

    multiplier: Decimal
    basis: str


# Lương cơ sở and the day each took effect (NĐ 38/2019, NĐ 24/2023, NĐ 73/2024); a newer one is
# added here (or by setting) when it is decreed.
BASE_SALARIES: tuple[tuple[date, int], ...] = (
    (date(2019, 7, 1), 1_490_000),
    (date(2023, 7, 1), 1_800_000),
    (date(2024, 7, 1), 2_340_000),
)
ROUND_TO = 10_000  # each award's prize is rounded up to 10.000 đ (NĐ 152/2025 Đ.49 k2)
ROUNDING_BASIS = "Nghị định 152/2025/NĐ-CP, Điều 49 khoản 2"

PAYERS = {
    "ldtt": Payer.ENTERPRISE, "cstdcs": Payer.ENTERPRISE, "tt_ldtt": Payer.ENTERPRISE,
    "giay_khen": Payer.ENTERPRISE, "tt_ldxs": Payer.PROVINCE, "bk_tinh": Payer.PROVINCE,
    "cstd_tinh": Payer.PROVINCE, "co_tinh": Payer.PROVINCE,
    "bk_thu_tuong": Payer.CENTRAL, "hcld_hang_ba": Payer.CENTRAL,
}  # fmt: skip

IND, COL = "individual", "collective"
_ND91 = "Nghị định 91/2017/NĐ-CP"
_ND98 = "Nghị định 98/2023/NĐ-CP"
_ND152 = "Nghị định 152/2025/NĐ-CP"


def _rates(
    decree: str, bk_individual: str, bk_collective: str, bk_basis: str
) -> dict[tuple[str, str], Rate]:
    return {
        ("ldtt", IND): Rate(Decimal("0.3"), decree),
        ("cstdcs", IND): Rate(Decimal("1.0"), decree),
        ("cstd_tinh", IND): Rate(Decimal("3.0"), decree),
        ("tt_ldtt", COL): Rate(Decimal("0.8"), decree),
        ("tt_ldxs", COL): Rate(Decimal("1.5"), decree),
        ("co_tinh", COL): Rate(
            Decimal("8.0"), f"{_ND152}, Điều 50 khoản 2 điểm e" if decree == _ND152 else decree
        ),
        ("bk_tinh", IND): Rate(Decimal(bk_individual), bk_basis),
        ("bk_tinh", COL): Rate(
            Decimal(bk_collective), f"{decree}, Điều 54" if decree == _ND152 else decree
        ),
        ("giay_khen", IND): Rate(Decimal("0.3"), decree),
        ("giay_khen", COL): Rate(Decimal("0.6"), decree),
        ("bk_thu_tuong", IND): Rate(Decimal("3.5"), decree),
        ("bk_thu_tuong", COL): Rate(Decimal("7.0"), decree),
        # the Huân chương's rates are not set here yet: the summary says "chưa có hệ số"
    }


RATES: dict[Regime, dict[tuple[str, str], Rate]] = {
    Regime.ND91_2017: _rates(_ND91, "1.0", "2.0", _ND91),
    Regime.ND98_2023: _rates(_ND98, "1.0", "2.0", _ND98),
    # The individual BK tỉnh rate under NĐ 152 is not confirmed: NĐ 98's 1.0 is kept, said so.
    Regime.ND152_2025: _rates(
        _ND152, "1.0", "3.0", f"{_ND98} (mức cá nhân theo {_ND152} chưa xác nhận)"
    ),
}


Salaries = tuple[tuple[date, int], ...]


def base_salary(on: date, newer: Salaries = ()) -> tuple[int, date]:
    """The base salary in force on a day, and the day it took effect; ``newer`` adds values
    decreed since (THIDUA_BASE_SALARIES), which win over the built-in ones of the same day."""
    table = dict(BASE_SALARIES)
    table.update(dict(newer))
    start, amount = min(table.items())
    for since, value in sorted(table.items()):
        if since <= on:
            start, amount = since, value
    return amount, start


def parse_salaries(text: str) -> Salaries:
    """Base salaries as a setting writes them, "2026-07-01=2900000; 2027-01-01=3100000" (or
    01/07/2026=2.900.000), as dated values; raises ValueError naming what it cannot read."""
    found: list[tuple[date, int]] = []
    example = "e.g. 2026-07-01=2900000"
    for part in filter(None, (p.strip() for p in text.split(";"))):
        day_text, sep, amount_text = part.partition("=")
        amount_text = amount_text.strip().replace(".", "").replace(",", "").replace(" ", "")
        day_text = day_text.strip()
        day = parse_day(day_text)
        if day is None or not amount_text.isdecimal():
            raise ValueError(f"expected DAY=AMOUNT, {example}, got {part!r}")
        amount = int(amount_text)
        if not sep or not 100_000 <= amount <= 100_000_000:
            raise ValueError(f"expected DAY=AMOUNT in đồng, {example}, got {part!r}")
        found.append((day, amount))
    return tuple(sorted(found))


def rate(regime: str, code: str, subject: str) -> Rate | None:
    """A title's prize rate for an individual or a collective (None: no prize set)."""
    return RATES[Regime(regime)].get((code, subject))


def per_award(multiplier: Decimal, salary: int) -> int:
    """One award's prize: multiplier × base salary, rounded up to 10.000 đ."""
    steps = (multiplier * salary / ROUND_TO).to_integral_value(rounding=ROUND_CEILING)
    return int(steps) * ROUND_TO
