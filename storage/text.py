"""Vietnamese text normalisation: NFC for storage, folded keys for matching."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# Control characters (a workbook cannot hold them: one in a name broke every export) and the
# bidirectional marks and overrides that make "gpj.exe" look like "exe.jpg".
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
    "\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """Normalises to NFC, drops control and bidi characters, and trims/collapses white space,
    as every stored text must be."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", clean(value))).strip()


def clean(value: str) -> str:
    """Drops control characters (tab, line feed and carriage return stay) and bidi marks."""
    return _UNSAFE.sub("", value) if _UNSAFE.search(value) else value


def clip(value: str, limit: int) -> str:
    """Fits free text (a sent file's name…) into a column, marking the cut with "…"."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def search_key(value: str) -> str:
    """Folds case, every diacritic, đ and punctuation away: for headers, zones and search."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _PUNCT.sub(" ", bare.casefold())).strip()


def tone_key(value: str) -> str:
    """Folds case and tone placement only ("Hoà" = "Hòa"), keeping which tone and vowel it is."""
    words = []
    for word in nfc(value).casefold().split(" "):
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
        rest = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
        words.append(unicodedata.normalize("NFC", rest) + tones)
    return " ".join(words)


_ALPHABET = {ch: index for index, ch in enumerate("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")}
# No tone < huyền < hỏi < ngã < sắc < nặng, as Vietnamese dictionaries order them.
_TONE_ORDER = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


@lru_cache(maxsize=65536)
def _word_key(word: str) -> tuple[tuple[int, ...], int]:
    """Letters by the Vietnamese alphabet first, then the syllable's tone."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    tone = next((ch for ch in decomposed if ch in _TONE_MARKS), "")
    letters = unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
    )
    return tuple(_ALPHABET.get(ch, 100 + ord(ch)) for ch in letters), _TONE_ORDER[tone]


def vi_name_key(full_name: str) -> tuple[object, ...]:
    """Sorts people as Vietnamese lists do: given name (last word) first, then the rest in order."""
    words = nfc(full_name).split(" ")
    return (_word_key(words[-1]), tuple(_word_key(w) for w in words[:-1]))


def vi_sort_key(text: str) -> tuple[object, ...]:
    """Sorts names of places and things as Vietnamese does, word by word ("Đình" after
    "Dương", not after "Zê")."""
    return tuple(_word_key(word) for word in nfc(text).split(" "))


_DAY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")


def parse_day(text: str) -> date | None:
    """A calendar day as Vietnamese forms write it (20/12/2026, 20.12.2026, 20-12-2026) or in
    ISO form (2026-12-20); None when it is not one (31/02/2026 included)."""
    text = text.strip()
    found = _DAY.match(text)
    try:
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
