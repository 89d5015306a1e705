"""Catalogs are complete and current; dates and counts read naturally in both languages."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, _, days_left, fmt_date, fmt_number, pick_language, use_language
from storage.models import MilestoneKind

ROOT = Path(__file__).resolve().parents[1]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog(language: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_template_matches_the_source(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "ngettext:1,2", "--no-location", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with fresh.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    committed = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog("vi") if m.id}
    assert extracted - committed == set(), "run ./dev i18n and translate the new messages"
    assert committed - extracted == set(), "run ./dev i18n to drop obsolete messages"


def test_every_message_has_a_vietnamese_translation_with_the_same_placeholders() -> None:
    for message in _catalog("vi"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"untranslated: {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"fuzzy: {ids[0]!r}"
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[-1])), ids[0]


def test_vietnamese_is_the_default_and_english_follows_the_user() -> None:
    assert _("Cancelled.") == "Đã huỷ."
    with use_language("en"):
        assert _("Cancelled.") == "Cancelled."
    with use_language("fr"):
        assert _("Cancelled.") == "Đã huỷ."
    assert pick_language("en-GB") == "en"
    assert (
        pick_language("vi") == "vi" and pick_language("ru") == "vi" and pick_language(None) == "vi"
    )


def test_dates_and_numbers_in_words() -> None:
    cutoff = datetime(2026, 4, 14, 17, 0, tzinfo=UTC)
    assert fmt_date(cutoff, HCM) == "thứ Tư, 15/04/2026"
    assert fmt_number(1250000) == "1.250.000"
    with use_language("en"):
        assert fmt_number(1250000) == "1,250,000"
        assert fmt_date(cutoff, HCM) == "Wednesday, 15/04/2026"


@pytest.mark.parametrize(
    ("now", "vi", "en"),
    [
        (datetime(2026, 4, 9, 1, 0, tzinfo=UTC), "còn 5 ngày", "5 days left"),
        (datetime(2026, 4, 13, 1, 0, tzinfo=UTC), "còn 1 ngày", "1 day left"),
        (datetime(2026, 4, 14, 16, 59, tzinfo=UTC), "hôm nay là hạn cuối", "today is the last day"),
        (datetime(2026, 4, 14, 17, 0, tzinfo=UTC), "đã quá hạn 1 ngày", "1 day overdue"),
        (datetime(2026, 4, 17, 3, 0, tzinfo=UTC), "đã quá hạn 3 ngày", "3 days overdue"),
    ],
)
def test_days_left_counts_local_days(now: datetime, vi: str, en: str) -> None:
    cutoff = datetime(2026, 4, 14, 17, 0, tzinfo=UTC)  # before 15/04 in Hà Nội
    assert days_left(cutoff, now, HCM) == vi
    with use_language("en"):
        assert days_left(cutoff, now, HCM) == en


@pytest.mark.parametrize("kind", list(MilestoneKind))
def test_a_milestone_with_its_year_never_says_nam_nam(kind: MilestoneKind) -> None:
    """ "Báo cáo tổng kết năm" + " năm 2026" read "năm năm" in reminders and digests."""
    from bot.texts.milestones import milestone_title

    with use_language("vi"):
        title = milestone_title(kind, 2026)
    assert title.endswith("năm 2026") and "năm năm" not in title
    with use_language("en"):
        assert milestone_title(kind, 2026).endswith(" for 2026")


def test_the_start_loads_both_languages_and_sets_its_objects_aside() -> None:
    """The first people to write after a restart do not wait for catalogs or Babel's data, and
    the collector no longer walks what the start built (checked in a fresh interpreter)."""
    probe = (
        "import gc, babel.localedata as data\n"
        "from bot import i18n\n"
        "from bot.settle import settle\n"
        "assert i18n.translations.cache_info().currsize == 0\n"
        "assert gc.get_freeze_count() == 0\n"
        "settle()\n"
        "assert i18n.translations.cache_info().currsize == len(i18n.LANGUAGES)\n"
        "assert {'vi', 'en'} <= set(data._cache), sorted(data._cache)\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=60)
