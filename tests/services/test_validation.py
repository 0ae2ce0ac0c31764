"""Every field rule in `services.validation`: what passes (normalised) and what a user is told.

Messages are compared through `gettext` of the same message id, so the tests hold in any locale.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_babel import gettext as _
from stdnum.cn import ric

from app.services.identity import make_id_number
from app.services.validation import (
    FieldError,
    check_date,
    check_email,
    check_id_number,
    check_landline,
    check_mobile,
    check_money,
    id_birth_date,
    id_gender,
    mobile_carrier,
)


def with_check_char(body17: str) -> str:
    """17 digits + the right check character: only what the test means to break is wrong."""
    return body17 + ric.calc_check_digit(body17 + "0")


def error_of(fn, value) -> str:  # noqa: ANN001
    with pytest.raises(FieldError) as exc:
        fn(value)
    return str(exc.value)


# --- resident ID -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "11010519491231002X",
    "11010519491231002x",  # lower-case x is accepted and upper-cased
    " 110105194912310029 ".replace("9 ", "X "),
    make_id_number("440305", dt.date(2000, 2, 29), 7, "F"),
])
def test_valid_resident_ids_are_normalised(ctx, value):
    out = check_id_number(value)
    assert out == value.strip().upper()
    assert len(out) == 18


def test_birth_date_and_gender_come_from_the_id(ctx):
    assert id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_gender("11010519491231002X") == "F"  # 17th digit 2: even
    assert id_gender(make_id_number("110105", dt.date(1990, 5, 1), 3, "M")) == "M"


def test_wrong_check_character(ctx):
    good = make_id_number("110105", dt.date(1985, 6, 15), 12, "M")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert error_of(check_id_number, wrong) == _("Resident ID number check character is wrong.")


def test_impossible_birth_date(ctx):
    feb30 = with_check_char("11010519990230001")
    assert error_of(check_id_number, feb30) == _("Resident ID number contains an invalid birth date.")


def test_future_birth_date(ctx):
    future = with_check_char(f"110105{dt.date.today().year + 1}0101001")
    assert error_of(check_id_number, future) == _("Resident ID number has a birth date in the future.")


@pytest.mark.parametrize("body", ["00010519800101001", "99010519800101001", "10010519800101001"])
def test_unknown_region_is_named_as_such(ctx, body):
    # "99…" passes the shape checks; only the region table rejects it (and it is not a date problem).
    assert error_of(check_id_number, with_check_char(body)) == _("Resident ID number has an unknown region code.")


@pytest.mark.parametrize(("value", "msgid"), [
    ("", "Resident ID number is required."),
    ("11010519491231002", "Resident ID number must be 18 characters."),
    ("1101051949123100212", "Resident ID number must be 18 characters."),
    ("1101051949123100A2", "Resident ID number must be 17 digits followed by a digit or X."),
])
def test_id_shape_errors(ctx, value, msgid):
    assert error_of(check_id_number, value) == _(msgid)


# --- mobile and carrier ------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "normalised"), [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+8613812345678", "13812345678"),
])
def test_valid_mobiles_are_normalised(ctx, value, normalised):
    assert check_mobile(value) == normalised


@pytest.mark.parametrize("value", ["11012345678", "12012345678", "10012345678", "14012345678", "15412345678"])
def test_non_mainland_segments_are_refused_naming_the_segment(ctx, value):
    msg = error_of(check_mobile, value)
    assert msg == _("Mobile number %(prefix)s is not a mainland China mobile segment.", prefix=value[:3])


@pytest.mark.parametrize("value", ["", "1381234567", "138123456789", "23812345678", "1381234567a"])
def test_mobile_shape_errors(ctx, value):
    msg = error_of(check_mobile, value)
    assert msg in (_("Mobile number is required."), _("Mobile number must be 11 digits starting with 1."))


@pytest.mark.parametrize(("mobile", "carrier"), [
    ("13812345678", "cmcc"),
    ("15012345678", "cmcc"),
    ("13012345678", "cucc"),
    ("18612345678", "cucc"),
    ("18912345678", "ctcc"),
    ("13312345678", "ctcc"),
    ("19212345678", "cbn"),
    ("17012345678", "mvno"),
    ("17112345678", "mvno"),
    ("16212345678", "mvno"),
    ("16512345678", "mvno"),
    ("16712345678", "mvno"),
])
def test_carrier_from_segment(ctx, mobile, carrier):
    assert mobile_carrier(mobile) == carrier


# --- landline, email, date ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "normalised"), [
    ("010-12345678", "010-12345678"),
    ("01012345678", "010-12345678"),
    ("0755-1234567", "0755-1234567"),
    ("07551234567", "0755-1234567"),
    ("021-12345678-123", "021-12345678-123"),
    ("", None),
    (None, None),
])
def test_landline_accepted_and_normalised(ctx, value, normalised):
    assert check_landline(value) == normalised


@pytest.mark.parametrize("value", ["12345678", "10-12345678", "010-123456", "010-123456789", "abc"])
def test_bad_landline(ctx, value):
    assert error_of(check_landline, value) == _(
        "Landline must be an area code starting with 0 and a 7–8 digit number, e.g. 010-12345678.")


def test_email(ctx):
    assert check_email(" user@Example.com ") == "user@example.com"
    assert check_email("") is None
    for bad in ("x@", "no-at-sign", "a@b@c.com", "a b@example.com"):
        assert error_of(check_email, bad) == _("Email address is not valid.")


def test_date(ctx):
    assert check_date("2026-01-31") == dt.date(2026, 1, 31)
    assert check_date(dt.datetime(2026, 1, 31, 8)) == dt.date(2026, 1, 31)
    assert check_date("") is None
    assert error_of(check_date, "31/01/2026") == _("Date must be in the form YYYY-MM-DD.")
    with pytest.raises(FieldError):
        check_date("", required=True)


# --- money -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "amount"), [
    ("19.90", Decimal("19.90")),
    ("19.9", Decimal("19.90")),
    (20, Decimal("20.00")),
    (Decimal("0.01"), Decimal("0.01")),
    (0.1, Decimal("0.10")),  # a float goes through its repr, never binary arithmetic
    (19.99, Decimal("19.99")),
    (" 5 ", Decimal("5.00")),
])
def test_money_is_decimal_with_two_places(ctx, value, amount):
    out = check_money(value)
    assert isinstance(out, Decimal)
    assert out == amount and out.as_tuple().exponent == -2


@pytest.mark.parametrize(("value", "msgid"), [
    ("19.999", "Amount may have at most 2 decimal places."),
    (0.125, "Amount may have at most 2 decimal places."),
    ("-1.00", "Amount must not be negative."),
    ("NaN", "Amount must be a number such as 19.90."),
    (float("nan"), "Amount must be a number such as 19.90."),
    ("Infinity", "Amount must be a number such as 19.90."),
    (float("inf"), "Amount must be a number such as 19.90."),
    ("abc", "Amount must be a number such as 19.90."),
    ("", "Amount must be a number such as 19.90."),
    (None, "Amount must be a number such as 19.90."),
    ("10000000000", "Amount is too large."),
])
def test_bad_money(ctx, value, msgid):
    assert error_of(check_money, value) == _(msgid)


def test_zero_money_only_where_allowed(ctx):
    assert check_money("0") == Decimal("0.00")
    with pytest.raises(FieldError) as exc:
        check_money("0.00", allow_zero=False)
    assert str(exc.value) == _("Amount must be greater than zero.")
