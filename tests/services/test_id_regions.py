"""Resident IDs carry the region code in force when they were issued, not at birth."""

import datetime as dt

import pytest

from app.services.identity import REGIONS, make_id_number
from app.services.validation import FieldError, check_id_number


@pytest.mark.parametrize(("code", "city"), REGIONS)
def test_districts_created_after_the_holders_birth_are_accepted(code, city):
    # e.g. 440106 (Tianhe, Guangzhou) dates from 1985; someone born in 1960 holds such a number.
    number = make_id_number(code, dt.date(1960, 3, 15), 7, "F")
    assert check_id_number(number) == number


def test_unknown_region_with_a_correct_check_character_is_refused():
    with pytest.raises(FieldError, match="region"):
        check_id_number("990105194912310023")
