"""Babel gettext and formatters; the active language is a context variable per update."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

_current: ContextVar[str] = ContextVar("thidua_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> Translations:
    """Loads a catalog straight from its .po file, so no compiled file can go stale."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def load_all() -> None:
    """Reads every catalog and Babel's data for each language now, at the start, so that the
    first people to write after a restart do not wait for it."""
    for code in LANGUAGES:
        translations(code)
        with use_language(code):
            fmt_number(1)
            fmt_day(date(2000, 1, 1))
            fmt_instant(datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")), ZoneInfo("Asia/Ho_Chi_Minh"))


def language() -> str:
    """The language of the message being answered."""
    return _current.get()


def pick_language(code: str | None) -> str:
    """English for English speakers; Vietnamese for everyone else."""
    return "en" if code and code.lower().startswith("en") else DEFAULT_LANGUAGE


@contextmanager
def use_language(code: str | None) -> Iterator[str]:
    """Answers in ``code`` inside the block."""
    chosen = code if code in LANGUAGES else DEFAULT_LANGUAGE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """Translates a message into the active language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translates a message whose form depends on a count."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction; translated later where it is shown."""
    return message


def fmt_number(value: int | float | Decimal) -> str:
    """1.250.000 in Vietnamese, 1,250,000 in English."""
    return format_decimal(value, locale=language())


def fmt_date(instant: datetime, tz: ZoneInfo) -> str:
    """A day in words as used mid-sentence: "thứ Ba, 14/04/2026"."""
    return _day_words(instant.astimezone(tz).date(), language())


@lru_cache(maxsize=4096)
def _day_words(day: date, code: str) -> str:
    """Babel's formatting is slow and the same few deadlines are shown again and again."""
    text = format_date(day, "EEEE, dd/MM/yyyy", locale=code)
    return text[0].lower() + text[1:] if code == "vi" else text


def fmt_day(day: date) -> str:
    """A calendar day as forms write it: 20/12/2026."""
    return format_date(day, "dd/MM/yyyy", locale=language())


def fmt_instant(instant: datetime, tz: ZoneInfo) -> str:
    """An hour and a day: "23:59 thứ Ba, 14/04/2026"."""
    local = instant.astimezone(tz)
    return f"{_clock_words(local.hour, local.minute, language())} {fmt_date(local, tz)}"


@lru_cache(maxsize=4096)
def _clock_words(hour: int, minute: int, code: str) -> str:
    """Like _day_words: deadlines fall at the same few times of day."""
    return format_time(time(hour, minute), "HH:mm", locale=code)


def last_moment(cutoff: datetime) -> datetime:
    """The last minute that is still on time before an exclusive cut-off."""
    return cutoff - timedelta(minutes=1)


def days_left(cutoff: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "còn 5 ngày", "hôm nay là hạn cuối" or "đã quá hạn 2 ngày", counted in local days."""
    last_day = last_moment(cutoff).astimezone(tz).date()
    delta = (last_day - now.astimezone(tz).date()).days
    if now >= cutoff:
        overdue = max(1, -delta)
        return ngettext("%(n)d day overdue", "%(n)d days overdue", overdue) % {"n": overdue}
    if delta == 0:
        return _("today is the last day")
    return ngettext("%(n)d day left", "%(n)d days left", delta) % {"n": delta}
