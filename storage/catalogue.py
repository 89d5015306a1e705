"""The titles and forms of commendation an enterprise may register, per legal regime, as data.

Legal citations are data too: the board checks and edits them here, never in the rules' code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from storage.models import Regime
from storage.text import search_key


class Subject(StrEnum):
    """Who a title or award can go to."""

    INDIVIDUAL = "individual"
    COLLECTIVE = "collective"
    BOTH = "both"


@dataclass(frozen=True)
class Title:
    """An emulation title (danh hiệu) or a form of commendation (hình thức khen thưởng)."""

    code: str
    name: str  # the exact Vietnamese name used on the forms
    short: str
    subject: Subject
    is_award: bool = False
    needs_initiative: bool = False
    aliases: tuple[str, ...] = ()  # other ways forms write it, folded with search_key

    def fits(self, subject: Subject) -> bool:
        """Whether this title can go to an individual or a collective."""
        return self.subject in (subject, Subject.BOTH)


LDTT = Title("ldtt", "Lao động tiên tiến", "LĐTT", Subject.INDIVIDUAL)
CSTDCS = Title("cstdcs", "Chiến sĩ thi đua cơ sở", "CSTĐCS", Subject.INDIVIDUAL)
CSTD_TINH = Title(
    "cstd_tinh",
    "Chiến sĩ thi đua cấp tỉnh",
    "CSTĐ tỉnh",
    Subject.INDIVIDUAL,
    aliases=("chien si thi dua tinh", "cstd cap tinh"),
)
TT_LDTT = Title(
    "tt_ldtt",
    "Tập thể lao động tiên tiến",
    "TT LĐTT",
    Subject.COLLECTIVE,
)
TT_LDXS = Title(
    "tt_ldxs",
    "Tập thể lao động xuất sắc",
    "TT LĐXS",
    Subject.COLLECTIVE,
    aliases=("tap the ldxs", "tt lao dong xuat sac"),
)
CO_TINH = Title(
    "co_tinh",
    "Cờ thi đua của Ủy ban nhân dân tỉnh",
    "Cờ tỉnh",
    Subject.COLLECTIVE,
    aliases=("co thi dua", "co thi dua ubnd tinh", "co thi dua cua ubnd tinh"),  # not "co": "Có"
)
BK_TINH = Title(
    "bk_tinh",
    "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
    "BK tỉnh",
    Subject.BOTH,
    is_award=True,
    aliases=(  # a bare "Bằng khen" / "BK" names no level: asked, never taken for this one
        "bk tinh",
        "bang khen tinh",
        "bang khen ubnd tinh",
        "bang khen cua chu tich ubnd tinh",
        "bang khen chu tich ubnd tinh",
    ),
)
GIAY_KHEN = Title(
    "giay_khen", "Giấy khen", "GK", Subject.BOTH, is_award=True, aliases=("giay khen cua giam doc",)
)

# Higher forms: the board only passes them upward (the Prime Minister's, the President's).
BK_THU_TUONG = Title(
    "bk_thu_tuong",
    "Bằng khen của Thủ tướng Chính phủ",
    "BK Thủ tướng",
    Subject.BOTH,
    is_award=True,
    aliases=(
        "bang khen thu tuong", "bang khen cua thu tuong", "bk thu tuong", "bk ttcp",
        "bang khen thu tuong chinh phu", "bang khen cua thu tuong chinh phu",
    ),
)  # fmt: skip
HCLD_HANG_BA = Title(
    "hcld_hang_ba",
    "Huân chương Lao động hạng Ba",
    "HCLĐ hạng Ba",
    Subject.BOTH,
    is_award=True,
    aliases=("huan chuong lao dong hang 3", "hcld hang ba", "hcld hang 3", "hcld3"),
)
_COMMON = (
    LDTT, CSTD_TINH, TT_LDTT, TT_LDXS, CO_TINH, BK_TINH, GIAY_KHEN, BK_THU_TUONG, HCLD_HANG_BA,
)  # fmt: skip
CATALOGUES: dict[Regime, tuple[Title, ...]] = {
    # 2020 regime: a recognised initiative is mandatory for CSTĐCS.
    Regime.ND91_2017: (
        *_COMMON[:1],
        replace(CSTDCS, needs_initiative=True),
        *_COMMON[1:],
    ),
    Regime.ND98_2023: (*_COMMON[:1], CSTDCS, *_COMMON[1:]),
    Regime.ND152_2025: (*_COMMON[:1], CSTDCS, *_COMMON[1:]),
}

# Where each rule comes from, per regime; shown with every warning.
LEGAL_BASIS: dict[Regime, dict[str, str]] = {
    Regime.ND91_2017: {
        "cstdcs_ratio": "Nghị định 91/2017/NĐ-CP, Điều 9 khoản 3",
        "cstdcs_initiative": "Luật TĐKT 2003 (sửa đổi 2013), Điều 23; Nghị định 91/2017/NĐ-CP",
        "ttldxs_needs_cstdcs": "Luật TĐKT 2003 (sửa đổi 2013), Điều 27",
        "cstd_tinh_history": "Luật TĐKT 2003 (sửa đổi 2013); Nghị định 91/2017/NĐ-CP",
        "co_tinh_cluster": "Nghị định 91/2017/NĐ-CP",
        "collective_ldtt_share": "Nghị định 91/2017/NĐ-CP",
        "attestation": "Luật TĐKT 2003 (sửa đổi 2013); Nghị định 91/2017/NĐ-CP",
        "bk_tinh_history": "Nghị định 91/2017/NĐ-CP",
        "duplicate_name": "",
    },
    Regime.ND98_2023: {
        "cstdcs_initiative": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "ttldxs_needs_cstdcs": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "cstd_tinh_history": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "co_tinh_cluster": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "collective_ldtt_share": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "attestation": "Luật TĐKT 06/2022/QH15; Nghị định 98/2023/NĐ-CP",
        "bk_tinh_history": "Nghị định 98/2023/NĐ-CP",
        "duplicate_name": "",
    },
    Regime.ND152_2025: {
        "cstdcs_initiative": "Luật TĐKT 06/2022/QH15; Nghị định 152/2025/NĐ-CP",
        "ttldxs_needs_cstdcs": "Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh, Điều 3 khoản 2 điểm b",
        "collective_ldtt_share": "Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh, Điều 3 khoản 2 điểm"
        " b (TT LĐXS); Điều 4 khoản 2 điểm b (TT LĐTT)",
        "cstd_tinh_history": "Luật TĐKT 06/2022/QH15; Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh",
        "bk_tinh_history": "Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh, Điều 3 khoản 3",
        "co_tinh_cluster": "Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh, Điều 3 khoản 1",
        "ttldtt_for_units": "Quyết định 86/2025/QĐ-UBND tỉnh Bắc Ninh, Điều 4 khoản 2 điểm a",
        "attestation": "Nghị định 152/2025/NĐ-CP, Điều 4 khoản 4",
        "duplicate_name": "",
    },
}
CSTDCS_MAX_SHARE: dict[Regime, Decimal] = {Regime.ND91_2017: Decimal("0.15")}


# A collective named as a company itself, not one of its units (a workshop, a department).
_COMPANY = ("cong ty", "tong cong ty", "doanh nghiep", "tap doan", "hop tac xa")


def names_a_company(name: str) -> bool:
    """Whether a collective's name is an enterprise's own ("Công ty TNHH …"), not a unit's."""
    return search_key(name).startswith(_COMPANY)


def catalogue(regime: str) -> tuple[Title, ...]:
    """The titles of a campaign's regime."""
    return CATALOGUES[Regime(regime)]


def by_code(regime: str, code: str) -> Title | None:
    """A title of the regime by its code."""
    return next((t for t in catalogue(regime) if t.code == code), None)


def short_name(regime: str, code: str | None) -> str:
    """A title's short form as lists write it ("LĐTT"); its code if the regime does not know
    it, "" for none."""
    if not code:
        return ""
    title = by_code(regime, code)
    return title.short if title else code


def match(regime: str, text: str, *, award: bool) -> Title | None:
    """A title (or award) of the regime named as people write it: full name or short form."""
    key = search_key(text)
    if not key:
        return None
    for title in catalogue(regime):
        if title.is_award != award:
            continue
        names = (search_key(title.name), search_key(title.short), title.code.replace("_", " "))
        if key in names or key in title.aliases:
            return title
    return None
