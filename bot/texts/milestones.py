"""Names of milestones, review states and legal regimes, and deadlines said in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import N_, _, days_left, fmt_date, fmt_instant, last_moment
from storage.models import MilestoneKind, Regime, ReviewState
from storage.progress import Standing
from storage.text import search_key

MILESTONE_NAMES = {
    MilestoneKind.REGISTRATION: N_("Registration of emulation titles"),
    MilestoneKind.MIDYEAR: N_("Mid-year review report"),
    MilestoneKind.REPORT: N_("Year-end summary report"),
}
MILESTONE_TITLES = {  # with the year: "tổng kết năm" already says "năm", so no "năm năm"
    MilestoneKind.REGISTRATION: N_("Registration of emulation titles for %(year)s"),
    MilestoneKind.MIDYEAR: N_("Mid-year review report for %(year)s"),
    MilestoneKind.REPORT: N_("Year-end summary report for %(year)s"),
}
REGIME_NAMES = {
    Regime.ND91_2017: N_(
        "Emulation and Commendation Law 2003 (amended 2013), Decree 91/2017/NĐ-CP"
    ),
    Regime.ND98_2023: N_("Emulation and Commendation Law 06/2022/QH15, Decree 98/2023/NĐ-CP"),
    Regime.ND152_2025: N_("Emulation and Commendation Law 06/2022/QH15, Decree 152/2025/NĐ-CP"),
}

REVIEW_STATE_NAMES = {
    ReviewState.RECEIVED: N_("received"),
    ReviewState.HAS_ISSUES: N_("has issues"),
    ReviewState.APPROVED: N_("approved"),
    ReviewState.RETURNED: N_("returned for correction"),
}


def review_state_name(state: str) -> str:
    """A review state in the active language."""
    return _(REVIEW_STATE_NAMES[ReviewState(state)])


_KIND_WORDS = (  # folded words people use for each milestone, the first match wins
    (MilestoneKind.MIDYEAR, ("so ket", "midyear", "mid year", "6 thang", "giua nam")),
    (MilestoneKind.REPORT, ("tong ket", "bao cao", "report", "year end")),
    (MilestoneKind.REGISTRATION, ("dang ky", "registration", "register")),
)


def milestone_kind(words: str) -> MilestoneKind | None:
    """The milestone meant by English or Vietnamese words ("đăng ký", "sơ kết", "báo cáo")."""
    folded = search_key(words).replace(" ", "")  # "bao cao" and "baocao" alike
    if not folded:
        return None
    for kind, names in _KIND_WORDS:
        if folded == kind.value or any(name.replace(" ", "") in folded for name in names):
            return kind
    return None


def milestone_name(kind: str) -> str:
    """A milestone's name in the active language."""
    return _(MILESTONE_NAMES[MilestoneKind(kind)])


def milestone_title(kind: str, year: int | str) -> str:
    """A milestone of one campaign year, as people write it ("Báo cáo tổng kết năm 2026")."""
    return _(MILESTONE_TITLES[MilestoneKind(kind)]) % {"year": year}


def regime_name(regime: str) -> str:
    """A legal regime's citation in the active language."""
    return _(REGIME_NAMES[Regime(regime)])


def deadline_words(cutoff: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "hạn cuối 23:59 thứ Ba, 14/04/2026 (còn 5 ngày)"."""
    return _("deadline %(when)s (%(left)s)") % {
        "when": fmt_instant(last_moment(cutoff), tz),
        "left": days_left(cutoff, now, tz),
    }


def countdown_words(cutoff: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "còn 3 ngày — hạn thứ Ba, 14/04/2026", as reminders say it."""
    return _("%(left)s — due %(date)s") % {
        "left": days_left(cutoff, now, tz),
        "date": fmt_date(last_moment(cutoff), tz),
    }


def standing_words(standing: Standing, tz: ZoneInfo) -> str:
    """ "đã nộp, số tiếp nhận DK-2026-0001 (phiên bản 2), 10:15 thứ Hai, 06/04/2026; Ban Quản lý:
    đã duyệt", with the board's comment when it wrote one."""
    text = _(
        "submitted, receipt %(reference)s (version %(version)s), %(when)s; the board: %(state)s"
    ) % {
        "reference": standing.reference,
        "version": standing.version,
        "when": fmt_instant(standing.submitted_at, tz),
        "state": review_state_name(standing.review_state),
    }
    if standing.review_comment:
        text += f" — “{standing.review_comment}”"
    if standing.review_state == ReviewState.RETURNED:
        text += ". " + _("Please correct it and submit it again.")
    return text
