"""Pseudonyms, masking and the GB 11643-1999 checks of resident ID numbers."""
from __future__ import annotations

from datetime import date

import pytest

from supervision.pii import check_character, id_checks, mask_id, person_key

# Published examples of valid numbers (the standard's own example and a common textbook one).
VALID = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass_every_check(number):
    fmt, birth, check = id_checks(number)
    assert fmt and check
    assert birth == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


@pytest.mark.parametrize("number, expected", [
    ("110105194912310021", (True, date(1949, 12, 31), False)),   # wrong check digit
    ("11010519491231002x", (False, date(1949, 12, 31), False)),  # lower-case x is not allowed
    ("110105194902300023", (True, None, False)),                  # 30 February is no date
    ("51343619880101001", (False, date(1988, 1, 1), False)),     # 17 characters
    ("1101051949123100２X", (False, date(1949, 12, 31), False)),  # a full-width digit
    ("", (False, None, False)),
    ("ABCDEFGHIJKLMNOPQR", (False, None, False)),
])
def test_invalid_numbers(number, expected):
    assert id_checks(number) == expected


def test_birth_dates_out_of_range_are_left_to_the_rule():
    number = "110105" + "21010101" + "001"
    number += check_character(number)
    assert id_checks(number, today=date(2024, 1, 1)) == (True, date(2101, 1, 1), True)


def test_check_character_matches_the_standard_table():
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"
    with pytest.raises(ValueError):
        check_character("123")


def test_mask_shows_first_six_and_last_four():
    assert mask_id("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize("short", ["1234567890", "12345", "123", ""])
def test_mask_of_short_input_never_reveals_it(short):
    masked = mask_id(short)
    assert "********" in masked
    assert short == "" or short not in masked
    assert sum(ch != "*" for ch in masked) <= len(short) // 2


def test_person_key_is_keyed_and_stable():
    a = person_key("11010519491231002X", b"k1")
    assert a == person_key("11010519491231002X", b"k1")
    assert a != person_key("11010519491231002X", b"k2")
    assert a != person_key("440524188001010014", b"k1")
    assert len(a) == 64 and int(a, 16) >= 0
    with pytest.raises(ValueError):
        person_key("11010519491231002X", b"")
