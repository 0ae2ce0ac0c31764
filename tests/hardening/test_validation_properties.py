"""Issue 7.4 (validators): property-based tests of app/services/validation.py.

Whatever a form or an API client sends, a validator either returns a clean value or raises
`FieldError` (a message for the user) — never another exception, which would be a 500. Values
generated valid (resident IDs built with python-stdnum's check character, mobile segments, money,
dates, text within limits) always pass and round-trip.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from app.services import validation as v
from app.services.errors import Invalid
from app.services.identity import make_id_number

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(), st.binary(), st.dates(), st.datetimes(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.text(alphabet="0123456789Xx-+ .e", max_size=24),  # near misses of IDs, numbers, money
)

VALIDATORS = {
    "id": v.check_id,
    "id_number": v.check_id_number,
    "mobile": v.check_mobile,
    "landline": v.check_landline,
    "email": v.check_email,
    "name": v.check_name,
    "choice": lambda x: v.check_choice(x, ("a", "b")),
    "money": v.check_money,
    "money_positive": lambda x: v.check_money(x, allow_zero=False),
    "date": v.check_date,
    "bool": v.check_bool,
    "text": lambda x: v.check_text(x, 10),
    "int": lambda x: v.check_int(x, minimum=0, maximum=100),
}


@pytest.mark.parametrize("name", list(VALIDATORS))
def test_any_input_is_a_clean_value_or_a_field_error(ctx: Any, name: str) -> None:
    check = VALIDATORS[name]

    @SETTINGS
    @given(value=anything)
    def run(value: Any) -> None:
        try:
            check(value)
        except v.FieldError as exc:
            assert str(exc)  # a message the user can read

    run()


@SETTINGS
@given(value=anything)
def test_a_bad_version_is_a_field_error_naming_version(ctx: Any, value: Any) -> None:
    try:
        v.check_version(value)
    except Invalid as exc:
        assert list(exc.errors) == ["version"]


REGIONS = ("110105", "310101", "440305", "510104", "330106", "420102")


@SETTINGS
@given(region=st.sampled_from(REGIONS), birth=st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
       sequence=st.integers(0, 499), gender=st.sampled_from("MF"))
def test_generated_resident_ids_pass_and_round_trip(ctx: Any, region: str, birth: dt.date, sequence: int,
                                                    gender: str) -> None:
    number = make_id_number(region, birth, sequence, gender)
    assert ric.calc_check_digit(number) == number[-1]
    assert v.check_id_number(number.lower()) == number  # a lower-case x is accepted
    assert v.id_birth_date(number) == birth and v.id_gender(number) == gender
    # Any single changed digit in the body breaks the check character (or the date/region).
    wrong = number[:16] + str((int(number[16]) + 1) % 10) + number[17]
    with pytest.raises(v.FieldError):
        v.check_id_number(wrong)


@SETTINGS
@given(prefix=st.sampled_from(("138", "139", "150", "186", "133", "177", "199")),
       rest=st.text(alphabet="0123456789", min_size=8, max_size=8), style=st.integers(0, 2))
def test_generated_mobiles_pass_in_any_usual_spelling(ctx: Any, prefix: str, rest: str, style: int) -> None:
    number = prefix + rest
    spelled = [number, f"+86 {number[:3]} {number[3:7]} {number[7:]}", f"{number[:3]}-{number[3:7]}-{number[7:]}"]
    assert v.check_mobile(spelled[style]) == number
    assert v.mobile_carrier(number) in ("cmcc", "cucc", "ctcc", "cbn", "mvno", "unknown")


@SETTINGS
@given(amount=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2))
def test_money_with_two_places_round_trips(ctx: Any, amount: Decimal) -> None:
    assert v.check_money(str(amount)) == amount
    assert v.check_money(f"  {amount}  ") == amount


@SETTINGS
@given(day=st.dates())
def test_iso_dates_round_trip(ctx: Any, day: dt.date) -> None:
    assert v.check_date(day.isoformat()) == day


@SETTINGS
@given(text=st.text(max_size=40), limit=st.integers(1, 30))
def test_text_limits(ctx: Any, text: str, limit: int) -> None:
    if len(text.strip()) <= limit:
        assert v.check_text(text, limit) == (text.strip() or None)
    else:
        with pytest.raises(v.FieldError):
            v.check_text(text, limit)
