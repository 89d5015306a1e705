"""Tax codes and phone numbers as Vietnamese offices write them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import exceptions as stdnum_errors
from stdnum.vn import mst


class IdentifierError(ValueError):
    """An identifier that cannot be accepted; ``code`` names the reason for the message layer."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


@dataclass(frozen=True)
class TaxCode:
    """A validated MST in its display form, and whether a lost leading zero was restored."""

    value: str
    restored_leading_zero: bool = False


_TAX_NOISE = re.compile(r"^\s*(mst|mã số thuế|ma so thue)\s*[:.]?\s*", re.IGNORECASE)
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "_": "-", "/": "-"})


def parse_tax_code(raw: object) -> TaxCode:
    """Validates an enterprise (10 digits) or branch (10-3) MST with its check digit."""
    restored = False
    if isinstance(raw, bool) or raw is None:
        raise IdentifierError("tax_code_empty", "")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        text = str(raw)
        if len(text) == 9:  # a spreadsheet stored the MST as a number and dropped its leading 0
            text, restored = "0" + text, True
    else:
        text = _TAX_NOISE.sub("", str(raw)).translate(_DASHES)
    compact = mst.compact(text)
    if not compact:
        raise IdentifierError("tax_code_empty", text)
    if not compact.isdigit():
        raise IdentifierError("tax_code_format", text.strip())
    if len(compact) == 12:
        raise IdentifierError("tax_code_personal_id", compact)
    try:
        mst.validate(compact)
    except stdnum_errors.InvalidChecksum:
        raise IdentifierError("tax_code_checksum", text.strip()) from None
    except stdnum_errors.InvalidLength:
        raise IdentifierError("tax_code_length", text.strip()) from None
    except stdnum_errors.ValidationError:
        raise IdentifierError("tax_code_format", text.strip()) from None
    return TaxCode(mst.format(compact), restored)


def parse_phone(raw: object) -> str:
    """Validates a Vietnamese (or international) phone number and returns it as E.164."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    if isinstance(raw, int) and not text.startswith("0"):
        text = "0" + text  # the spreadsheet dropped the leading 0 of a national number
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise IdentifierError("phone_invalid", text) from None
    if not phonenumbers.is_valid_number(number):
        raise IdentifierError("phone_invalid", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """Shows a stored number the way a Vietnamese reader dials it (0912 345 678)."""
    number = phonenumbers.parse(e164, "VN")
    if number.country_code == 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
