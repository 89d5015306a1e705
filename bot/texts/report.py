"""How the report's figures read: their labels, examples and values, in the user's language."""

from __future__ import annotations

from decimal import Decimal

from bot.i18n import N_, _, fmt_number
from storage.report_figures import Figure, FigureKind

LABELS = {
    "workers_total": N_("Number of workers at the end of the period"),
    "workers_female": N_("of whom women"),
    "revenue": N_("Revenue (đồng)"),
    "profit": N_("Profit before tax (đồng; a loss is negative)"),
    "budget_paid": N_("Paid to the state budget (đồng)"),
    "income_avg": N_("Average income per worker per month (đồng)"),
    "investment": N_("Investment in equipment and technology (đồng)"),
    "initiatives": N_("Initiatives applied (number)"),
    "initiatives_value": N_("Value the initiatives brought (đồng)"),
    "accidents": N_("Labour accidents (number of cases)"),
    "social_insurance": N_("Social insurance contributions"),
    "awards_ldtt": N_("Lao động tiên tiến awarded inside the enterprise this year"),
    "awards_cstdcs": N_("Chiến sĩ thi đua cơ sở awarded this year"),
    "awards_ttldtt": N_("Tập thể lao động tiên tiến awarded this year"),
    "awards_gk": N_("Giấy khen awarded this year"),
    "proposals": N_("Proposals for higher commendation (optional)"),
}
CHOICES = {
    "full": N_("Paid in full and on time"),
    "partial": N_("Paid, but not in full"),
    "late": N_("Paid late"),
}
EXAMPLES = {
    FigureKind.COUNT: N_("Type a whole number, for example 1250 or 1.250 người."),
    FigureKind.MONEY: N_(
        "Type an amount, for example 1.250.000.000, 1,25 tỷ, 2 tỷ 300 triệu, 12 triệu or 12tr5."
    ),
    FigureKind.TEXT: N_("Type the text."),
    FigureKind.CHOICE: N_("Choose one:"),
}


def label(figure: Figure) -> str:
    """A figure's label in the active language."""
    return _(LABELS[figure.key])


def value_text(figure: Figure, value: object) -> str:
    """A stored value as a reader expects it: "1.250.000.000 đ", "1.234", a choice's words."""
    if value is None or value == "":
        return "—"
    if figure.kind == FigureKind.MONEY:
        return f"{fmt_number(Decimal(str(value)))} đ"
    if figure.kind == FigureKind.COUNT:
        return fmt_number(int(str(value)))
    if figure.kind == FigureKind.CHOICE:
        return _(CHOICES.get(str(value), str(value)))
    return str(value)
