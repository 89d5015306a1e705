"""The figures a year-end (or mid-year) report holds, and numbers read as people type them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from storage.models import MilestoneKind
from storage.text import nfc, search_key


class FigureKind(StrEnum):
    """How a figure is typed and checked."""

    COUNT = "count"
    MONEY = "money"  # đồng
    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True)
class Figure:
    """One field of the report's form; ``midyear`` marks the shorter mid-year set."""

    key: str
    kind: FigureKind
    maximum: Decimal = Decimal(10**15)
    minimum: Decimal = Decimal(0)
    required: bool = True
    midyear: bool = False
    choices: tuple[str, ...] = ()


TRILLION = Decimal(10**15)  # 1 triệu tỷ đồng: beyond any enterprise in the zones
FIGURES: tuple[Figure, ...] = (
    Figure("workers_total", FigureKind.COUNT, Decimal(1_000_000), midyear=True),
    Figure("workers_female", FigureKind.COUNT, Decimal(1_000_000), midyear=True),
    Figure("revenue", FigureKind.MONEY, TRILLION, midyear=True),
    Figure("profit", FigureKind.MONEY, TRILLION, -TRILLION, midyear=True),
    Figure("budget_paid", FigureKind.MONEY, TRILLION, midyear=True),
    Figure("income_avg", FigureKind.MONEY, Decimal(1_000_000_000), midyear=True),
    Figure("investment", FigureKind.MONEY, TRILLION),
    Figure("initiatives", FigureKind.COUNT, Decimal(100_000)),
    Figure("initiatives_value", FigureKind.MONEY, TRILLION),
    Figure("accidents", FigureKind.COUNT, Decimal(100_000), midyear=True),
    Figure("social_insurance", FigureKind.CHOICE, choices=("full", "partial", "late")),
    Figure("awards_ldtt", FigureKind.COUNT, Decimal(1_000_000)),
    Figure("awards_cstdcs", FigureKind.COUNT, Decimal(1_000_000)),
    Figure("awards_ttldtt", FigureKind.COUNT, Decimal(10_000)),
    Figure("awards_gk", FigureKind.COUNT, Decimal(1_000_000)),
    Figure("proposals", FigureKind.TEXT, required=False),
)
UNITS = {"": 1, "d": 1, "dong": 1, "vnd": 1, "k": 10**3, "nghin": 10**3, "ngan": 10**3,
         "tr": 10**6, "trieu": 10**6, "ty": 10**9, "ti": 10**9}  # fmt: skip
_AMOUNT = re.compile(r"^([+-]?)([0-9][0-9.,]*)\s*(.*)$")
MAX_TEXT = 2000


class FigureError(ValueError):
    """A typed value refused; ``code`` names why for the message layer."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def figures_for(kind: str) -> tuple[Figure, ...]:
    """The report's fields: all for the year-end report, the short set mid-year."""
    if kind == MilestoneKind.MIDYEAR:
        return tuple(f for f in FIGURES if f.midyear)
    return FIGURES


def parse_amount(text: str) -> Decimal:
    """Reads "1.250.000.000", "1,25 tỷ", "12 triệu", "850tr", "-3,5 tỷ" (Vietnamese separators)."""
    cleaned = nfc(text).lower().replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.match(cleaned)
    if match is None:
        raise FigureError("figure_not_number", value=text[:40])
    sign, digits, unit = match.groups()
    multiplier = UNITS.get(search_key(unit).replace(" ", ""))
    if multiplier is None:
        raise FigureError("figure_not_number", value=text[:40])
    try:
        number = Decimal(_normalise_separators(digits, multiplier))
    except InvalidOperation:
        raise FigureError("figure_not_number", value=text[:40]) from None
    return -number * multiplier if sign == "-" else number * multiplier


def _normalise_separators(digits: str, multiplier: int) -> str:
    """Dots group thousands and a comma marks decimals, as Vietnamese write; both are guessed."""
    digits = digits.rstrip(".,")
    if "." in digits and "," in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        return digits.replace(grouping, "").replace(decimal_mark, ".")
    for mark in (".", ","):
        count = digits.count(mark)
        if count > 1:
            return digits.replace(mark, "")
        if count == 1:
            after = digits.split(mark)[1]
            if len(after) == 3 and multiplier == 1:
                return digits.replace(mark, "")
            return digits.replace(mark, ".")
    return digits


def read_figure(figure: Figure, text: str, known: dict[str, object]) -> object:
    """Validates one typed value against its field and the figures already given."""
    if figure.kind == FigureKind.TEXT:
        value = nfc(text)
        if len(value) > MAX_TEXT:
            raise FigureError("figure_text_too_long", limit=MAX_TEXT)
        return value
    if figure.kind == FigureKind.CHOICE:
        if text not in figure.choices:
            raise FigureError("figure_choice")
        return text
    amount = parse_amount(text)
    if amount < figure.minimum:
        raise FigureError("figure_negative")
    if amount > figure.maximum:
        raise FigureError("figure_too_large", maximum=int(figure.maximum))
    if figure.kind == FigureKind.COUNT:
        if amount != amount.to_integral_value():
            raise FigureError("figure_not_whole")
        count = int(amount)
        total = known.get("workers_total")
        if figure.key == "workers_female" and isinstance(total, int) and count > total:
            raise FigureError("figure_female_over_total", total=total)
        return count
    return str(amount.quantize(Decimal(1)))
