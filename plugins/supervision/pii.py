"""Personal data at load time: keyed pseudonyms, masked ID numbers and the GB 11643-1999 checks.

Sources agree on people only through the resident ID number. The warehouse joins on
``person_key`` (HMAC-SHA256 of the number under ``SUPERVISION_PII_KEY``) and shows at most
``id_masked``; the plain number, name and phone go to the restricted ``pii`` schema only.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

# GB 11643-1999: weight of each of the first 17 digits, and the check character for sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FORMAT = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: \d would accept other scripts' digits
_MASK = "********"


def person_key(id_number: str, key: bytes) -> str:
    """The keyed pseudonym of an ID number (HMAC-SHA256, hex). Same number, same key: same result.

    The number is used exactly as given (no case folding): an ID number with a lower-case ``x``
    is a different, invalid number, and INVALID_ID_NUMBER must see it as such."""
    if not key:
        raise ValueError("the PII key is empty: set SUPERVISION_PII_KEY")
    return hmac.new(key, id_number.encode("utf-8"), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """First 6 + '********' + last 4 characters.

    A number of 10 characters or fewer would be shown whole that way, so a short input keeps
    at most a quarter of its characters at each end (nothing at all below 4 characters)."""
    n = len(id_number)
    if n > 10:
        return id_number[:6] + _MASK + id_number[-4:]
    keep = n // 4
    return (id_number[:keep] + _MASK + id_number[n - keep:]) if keep else _MASK


def _birth_date(id_number: str) -> date | None:
    digits = id_number[6:14]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def id_checks(id_number: str, today: date | None = None) -> tuple[bool, date | None, bool]:
    """``(format_ok, birth_date, check_ok)`` of a resident ID number under GB 11643-1999.

    - format_ok: 17 ASCII digits and a check character that is a digit or upper-case ``X``;
    - birth_date: characters 7-14 when they form a real calendar date, else None (read even when
      the format is wrong, so that a rule can still say *why* a number is bad);
    - check_ok: the check character is right (always False when the format is wrong).

    ``today`` is accepted for callers that want to pin the day, but the 1900..today range check
    belongs to the INVALID_ID_NUMBER rule, which must use the day it runs on: a birth date
    outside that range is still returned here."""
    del today  # see the docstring: deliberately not applied at load time
    format_ok = _FORMAT.fullmatch(id_number) is not None
    birth = _birth_date(id_number)
    check_ok = False
    if format_ok:
        total = sum(int(c) * w for c, w in zip(id_number[:17], _WEIGHTS, strict=True))
        check_ok = _CHECK_CHARS[total % 11] == id_number[17]
    return format_ok, birth, check_ok


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character for 17 digits (used by tests and fixtures)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]
