"""The figures a year-end (or mid-year) report holds, and numbers read as people type them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from storage.models import MilestoneKind
from storage.text import nfc


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
# The official sheet's wording of each figure and choice (form data, like the catalogue).
SHEET_HEADERS = {
    "workers_total": "Tổng số lao động cuối kỳ (người)",
    "workers_female": "Trong đó lao động nữ (người)",
    "revenue": "Doanh thu (đồng)",
    "profit": "Lợi nhuận trước thuế (đồng)",
    "budget_paid": "Nộp ngân sách nhà nước (đồng)",
    "income_avg": "Thu nhập bình quân (đồng/người/tháng)",
    "investment": "Đầu tư đổi mới thiết bị, công nghệ (đồng)",
    "initiatives": "Số sáng kiến được áp dụng",
    "initiatives_value": "Giá trị làm lợi từ sáng kiến (đồng)",
    "accidents": "Số vụ tai nạn lao động",
    "social_insurance": "Đóng bảo hiểm xã hội",
    "awards_ldtt": "Số Lao động tiên tiến được công nhận",
    "awards_cstdcs": "Số Chiến sĩ thi đua cơ sở được công nhận",
    "awards_ttldtt": "Số Tập thể lao động tiên tiến được công nhận",
    "awards_gk": "Số Giấy khen đã tặng",
    "proposals": "Đề xuất khen thưởng cấp trên",
}
CHOICE_WORDS = {
    "full": "Đóng đầy đủ, đúng hạn",
    "partial": "Đã đóng nhưng chưa đầy đủ",
    "late": "Đóng chậm",
}
AVERAGES = {"income_avg"}  # a total of these means nothing: the sheet shows their mean

UNITS = {"": 1, "d": 1, "dong": 1, "vnd": 1, "k": 10**3, "nghin": 10**3, "ngan": 10**3,
         "tr": 10**6, "trieu": 10**6, "ty": 10**9, "ti": 10**9}  # fmt: skip
COUNT_UNITS = {"": 1, "k": 10**3, "nghin": 10**3, "ngan": 10**3}
# What people add after a figure and means nothing more: "12 triệu/tháng", "1.250 người".
_PER = re.compile(  # "/tháng", "/người/tháng", "mỗi tháng" (not "/năm": a year is not a month)
    r"\s*(/|moi|tren|per)\s*(nguoi|thang|lao dong|ld)?(\s*/?\s*thang)?$"
)
_CURRENCY = re.compile(r"(?<=[a-z0-9])\s*(dong|vnd)$")  # "5 triệu đồng", "3.000.000 đồng"
_NOUNS = re.compile(
    r"\s*(nguoi|lao dong|ld|cong nhan|vu|truong hop|sang kien|ca nhan|tap the|danh hieu"
    r"|giay khen|lan)$"
)
_PART = re.compile(r"(\d[\d.,]*)\s*([a-z]*)(\d*)\s*")
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


def parse_amount(text: str, *, count: bool = False) -> Decimal:
    """Reads amounts as people type them: "1.250.000.000", "1,25 tỷ", "850tr", "12tr5",
    "1tỷ2", "2 tỷ 300 triệu", "12 triệu/tháng", "-3,5 tỷ"; a count: "1.250", "1.250 người"."""
    folded = _folded(text)
    sign = ""
    if folded[:1] in "+-" and folded:
        sign, folded = folded[0], folded[1:].strip()
    folded = _CURRENCY.sub("", _PER.sub("", folded)).strip()
    if count:
        folded = _NOUNS.sub("", folded)
    units = COUNT_UNITS if count else UNITS
    total, position, smallest = Decimal(0), 0, None
    while position < len(folded):
        match = _PART.match(folded, position)
        if match is None:
            raise FigureError("figure_not_number", value=text[:40])
        digits, unit, tail = match.groups()
        multiplier = units.get(unit)
        if multiplier is None or (tail and (multiplier == 1 or not digits.isdigit())):
            raise FigureError("figure_not_number", value=text[:40])
        if smallest is not None and (smallest == 1 or multiplier >= smallest or not unit):
            raise FigureError("figure_not_number", value=text[:40])  # "2 tỷ 300", "3 triệu 2 tỷ"
        try:
            value = Decimal(
                f"{digits}.{tail}" if tail else _normalise_separators(digits, multiplier)
            )
        except InvalidOperation:
            raise FigureError("figure_not_number", value=text[:40]) from None
        total += value * multiplier
        smallest, position = multiplier, match.end()
    if smallest is None:
        raise FigureError("figure_not_number", value=text[:40])
    return -total if sign == "-" else total


def _folded(text: str) -> str:
    """Lower case without diacritics or spaces around signs, digits and separators kept."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    spaced = re.sub(r"\s+", " ", bare.replace("\u00a0", " ")).strip()
    return re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", spaced)  # "1 250 000": spaces group digits


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
            # "1.500 triệu" groups thousands (Vietnamese decimals take a comma); "1,250" alone
            # is read as English grouping, "1,250 tỷ" as a decimal
            if len(after) == 3 and (mark == "." or multiplier == 1):
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
    try:
        amount = parse_amount(text, count=figure.kind == FigureKind.COUNT)
    except FigureError:
        if figure.kind == FigureKind.COUNT:
            raise FigureError("figure_not_count", value=text[:40]) from None
        raise
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


@dataclass(frozen=True)
class Finding:
    """Something wrong across the form: ``blocking`` ones stop the submission; ``key`` is the
    figure to change."""

    key: str
    code: str
    params: dict[str, object]
    blocking: bool


def check_form(kind: str, figures: dict[str, object]) -> list[Finding]:
    """Every figure checked against its field and the others, kept values included: women ≤
    workers and awards ≤ workers block; implausible pairs warn."""
    found: list[Finding] = []
    fields = {f.key: f for f in figures_for(kind)}
    numbers: dict[str, Decimal] = {}
    for key, figure in fields.items():
        value = figures.get(key)
        if value in (None, "") or figure.kind in (FigureKind.TEXT, FigureKind.CHOICE):
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            found.append(Finding(key, "figure_not_number", {"value": str(value)[:40]}, True))
            continue
        if number < figure.minimum:
            found.append(Finding(key, "figure_negative", {}, True))
        elif number > figure.maximum:
            found.append(Finding(key, "figure_too_large", {"maximum": int(figure.maximum)}, True))
        else:
            numbers[key] = number
    workers = numbers.get("workers_total")
    if workers is not None:
        women = numbers.get("workers_female")
        if women is not None and women > workers:
            found.append(
                Finding("workers_female", "figure_female_over_total", {"total": int(workers)}, True)
            )
        awarded = sum(numbers.get(k, Decimal(0)) for k in ("awards_ldtt", "awards_cstdcs"))
        if "awards_ldtt" in numbers and awarded > workers:
            found.append(
                Finding(
                    "awards_ldtt",
                    "figure_awards_over_workers",
                    {"awarded": int(awarded), "total": int(workers)},
                    True,
                )
            )
        income, revenue = numbers.get("income_avg"), numbers.get("revenue")
        if income and revenue and revenue > 0 and income * workers * 12 > revenue:
            found.append(
                Finding(
                    "income_avg",
                    "figure_wages_over_revenue",
                    {"wages": int(income * workers * 12), "revenue": int(revenue)},
                    False,
                )
            )
    if numbers.get("initiatives_value", Decimal(0)) > 0 and numbers.get("initiatives") == 0:
        found.append(Finding("initiatives", "figure_value_without_initiatives", {}, False))
    return found


# The report's "awarded this year" figures and the titles of the registration they count.
AWARDED_TITLES = {
    "awards_ldtt": ("ldtt",), "awards_cstdcs": ("cstdcs",), "awards_ttldtt": ("tt_ldtt",),
    "awards_gk": ("giay_khen",),
}  # fmt: skip


@dataclass(frozen=True)
class Against:
    """One "awarded" figure of a year-end report beside the registration's count."""

    key: str
    registered: int
    awarded: int

    @property
    def over(self) -> bool:
        """More awarded than registered: a registration is a plan, but the board asks why."""
        return self.awarded > self.registered


def against_registration(figures: dict[str, object], counts: dict[str, int]) -> list[Against]:
    """The report's awards per title beside the registration's (``counts``: title or form
    code -> rows of the newest submitted registration)."""
    found: list[Against] = []
    for key, codes in AWARDED_TITLES.items():
        value = figures.get(key)
        try:
            awarded = int(Decimal(str(value))) if value not in (None, "") else None
        except InvalidOperation:
            awarded = None
        if awarded is None:
            continue
        found.append(Against(key, sum(counts.get(code, 0) for code in codes), awarded))
    return found
