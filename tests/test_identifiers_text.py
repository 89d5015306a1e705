"""Tax codes, phones and Vietnamese text folding, as offices actually write them."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from storage.identifiers import IdentifierError, display_phone, parse_phone, parse_tax_code
from storage.text import nfc, parse_day, search_key, tone_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0100109106", "0100109106"),
        ("0100 109 106", "0100109106"),
        ("0100.109.106", "0100109106"),
        ("MST: 0100109106", "0100109106"),
        ("0100109106-001", "0100109106-001"),
        ("0100109106 – 001", "0100109106-001"),
        ("0100109106001", "0100109106-001"),
    ],
)
def test_valid_tax_codes_are_normalised(raw: str, expected: str) -> None:
    assert parse_tax_code(raw).value == expected
    assert not parse_tax_code(raw).restored_leading_zero


def test_a_number_cell_that_lost_its_leading_zero_is_restored_and_flagged() -> None:
    parsed = parse_tax_code(100109106)
    assert parsed.value == "0100109106"
    assert parsed.restored_leading_zero
    assert parse_tax_code(100109106.0).value == "0100109106"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0100109107", "tax_code_checksum"),
        ("001099012345", "tax_code_personal_id"),
        ("010010910", "tax_code_length"),
        ("01001091", "tax_code_length"),
        ("ABC1234567", "tax_code_format"),
        ("", "tax_code_empty"),
        (None, "tax_code_empty"),
        ("   ", "tax_code_empty"),
    ],
)
def test_invalid_tax_codes_name_their_reason(raw: object, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_tax_code(raw)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "raw", ["0912345678", "0912 345 678", "+84 912 345 678", "84912345678", 912345678]
)
def test_vietnamese_mobiles_become_e164(raw: object) -> None:
    assert parse_phone(raw) == "+84912345678"
    assert display_phone(parse_phone(raw)) == "0912 345 678"


@pytest.mark.parametrize("raw", ["12345", "not a phone", "0000000000"])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError):
        parse_phone(raw)


def test_nfd_input_is_stored_as_nfc_with_collapsed_spaces() -> None:
    nfd = unicodedata.normalize("NFD", "  Nguyễn   Thị Hoà ")
    assert nfc(nfd) == "Nguyễn Thị Hoà"
    assert unicodedata.is_normalized("NFC", nfc(nfd))


def test_tone_placement_folds_but_tones_do_not() -> None:
    assert tone_key("Nguyễn Thị Hoà") == tone_key("nguyễn thị hòa")
    assert tone_key("Thuỷ") == tone_key("Thủy")
    assert tone_key(unicodedata.normalize("NFD", "Hoà")) == tone_key("Hòa")
    assert tone_key("Hà") != tone_key("Hạ")
    assert tone_key("Đức") != tone_key("Dức")


def test_search_key_drops_marks_punctuation_and_maps_d() -> None:
    assert search_key("Mã số thuế (MST):") == "ma so thue mst"
    assert search_key("KCN Đình Trám") == "kcn dinh tram"


def test_zones_sort_as_vietnamese_does() -> None:
    from storage.text import vi_sort_key

    zones = ["KCN Yên Phong", "KCN Đình Trám", "KCN Dương Xá", "KCN Quế Võ", "KCN Zeta"]
    assert sorted(zones, key=vi_sort_key) == [
        "KCN Dương Xá", "KCN Đình Trám", "KCN Quế Võ", "KCN Yên Phong", "KCN Zeta",
    ]  # fmt: skip


def test_zone_names_are_shown_one_way() -> None:
    from storage.registry import zone_display, zone_key

    written = ["Khu công nghiệp Quang Châu", "KCN Quang Châu", "K.C.N Quang Châu"]
    assert {zone_display(name) for name in written} == {"KCN Quang Châu"}
    assert len({zone_key(name) for name in written}) == 1
    assert zone_display("Cụm công nghiệp Đồng Nguyên") == "Cụm công nghiệp Đồng Nguyên"


@pytest.mark.parametrize(
    ("text", "day"),
    [("20/12/2026", date(2026, 12, 20)), ("1.7.2026", date(2026, 7, 1)),
     (" 20 - 12 - 2026 ", date(2026, 12, 20)), ("2026-12-20", date(2026, 12, 20)),
     ("31/02/2026", None), ("tháng 12", None), ("", None), ("20/12/26", None)],
)  # fmt: skip
def test_a_day_is_read_as_forms_write_it(text: str, day: date | None) -> None:
    assert parse_day(text) == day
