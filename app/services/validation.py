"""Field validators shared by forms, the REST API, import and the seed.

Each `check_*` returns the normalised value or raises `FieldError` with a translated message.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from phonenumbers import carrier as pn_carrier
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from app.timefmt import business_today


class FieldError(ValueError):
    """A single field's value is wrong; the message is for the user."""


# Segments of virtual operators (虚拟运营商); the number segment tells only the original carrier.
VIRTUAL_PREFIXES = ("162", "165", "167", "170", "171")
_CARRIER_CODES = {
    "中国移动": "cmcc",
    "中国联通": "cucc",
    "中国电信": "ctcc",
    "中国广电": "cbn",
}


def _as_text(value: object) -> str:
    """Text input as a string. API clients may send a number (a mobile as 13812345678) but a list
    or an object is a field error, not a crash in the string functions below."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FieldError(_("Must be text."))


def check_id(value: object) -> int | None:
    """A record id from a form or API body: a positive 32-bit integer, else None (no such record)."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 0 < int(text) <= 2**31 - 1:
        return None
    return int(text)


@functools.lru_cache(maxsize=4096)
def _region_known(code: str) -> bool:
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return bool(info.get("county"))


def check_id_number(value: str) -> str:
    """18-character resident ID (GB 11643-1999): format, region, birth date, check character."""
    raw = _as_text(value).strip().upper()
    if not raw:
        raise FieldError(_("Resident ID number is required."))
    if len(raw) != 18:
        raise FieldError(_("Resident ID number must be 18 characters."))
    if not re.fullmatch(r"\d{17}[\dX]", raw):
        raise FieldError(_("Resident ID number must be 17 digits followed by a digit or X."))
    if raw[:2] in ("00", "10") or raw[0] == "0":
        raise FieldError(_("Resident ID number has an unknown region code."))
    if raw[-1] != ric.calc_check_digit(raw):
        raise FieldError(_("Resident ID number check character is wrong."))
    try:
        ric.get_birth_date(raw)
    except ValidationError:
        raise FieldError(_("Resident ID number contains an invalid birth date.")) from None
    # stdnum's own validate() also rejects a region code that was created after the birth year,
    # but numbers are issued with the code in force at issue time (people born before 1985 carry
    # codes created in 1985), so only the code's existence in GB/T 2260 is checked here.
    if not _region_known(raw[:6]):
        raise FieldError(_("Resident ID number has an unknown region code."))
    if ric.get_birth_date(raw) > business_today():
        raise FieldError(_("Resident ID number has a birth date in the future."))
    return raw


def id_birth_date(id_number: str) -> dt.date:
    return ric.get_birth_date(id_number)


def id_gender(id_number: str) -> str:
    """The 17th digit is odd for men and even for women."""
    return "M" if int(id_number[16]) % 2 == 1 else "F"


def check_mobile(value: str) -> str:
    raw = re.sub(r"[\s-]", "", _as_text(value))
    if raw.startswith("+86"):
        raw = raw[3:]
    if not raw:
        raise FieldError(_("Mobile number is required."))
    if not re.fullmatch(r"1\d{10}", raw):
        raise FieldError(_("Mobile number must be 11 digits starting with 1."))
    if not phonenumbers.is_valid_number(phonenumbers.parse("+86" + raw)):
        raise FieldError(_("Mobile number %(prefix)s is not a mainland China mobile segment.", prefix=raw[:3]))
    return raw


def mobile_carrier(mobile: str) -> str:
    """Carrier code of the number segment: cmcc, cucc, ctcc, cbn, mvno or unknown."""
    if mobile[:3] in VIRTUAL_PREFIXES:
        return "mvno"
    try:
        name = pn_carrier.name_for_number(phonenumbers.parse("+86" + mobile), "zh")
    except phonenumbers.NumberParseException:
        return "unknown"
    return _CARRIER_CODES.get(name, "unknown")


def check_landline(value: str | None) -> str | None:
    raw = re.sub(r"\s", "", _as_text(value))
    if not raw:
        return None
    if not re.fullmatch(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?", raw):
        raise FieldError(_("Landline must be an area code starting with 0 and a 7–8 digit number, e.g. 010-12345678."))
    if "-" not in raw:
        # Normalise to area code + dash: 3-digit codes begin 01 or 02, the rest are 4 digits.
        cut = 3 if raw[1] in "12" else 4
        raw = raw[:cut] + "-" + raw[cut:]
    return raw


def check_email(value: str | None) -> str | None:
    raw = _as_text(value).strip()
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise FieldError(_("Email address is not valid.")) from None


def check_name(value: str | None) -> str:
    raw = _as_text(value).strip()
    if not raw:
        raise FieldError(_("Name is required."))
    if len(raw) > 64:
        raise FieldError(_("Name must be at most 64 characters."))
    return raw


def check_choice(value: str | None, choices: tuple[str, ...], required: bool = True) -> str | None:
    if value in (None, ""):
        if required:
            raise FieldError(_("This field is required."))
        return None
    if value not in choices:
        raise FieldError(_("Not a valid choice: %(value)s.", value=value))
    return value


# Spellings of the two message languages met in forms and import files (the stored codes are zh/en).
_LANGUAGE_WORDS = {"zh": "zh", "zh-cn": "zh", "zh_cn": "zh", "zh-hans": "zh", "cn": "zh", "chinese": "zh",
                   "中文": "zh", "汉语": "zh", "简体中文": "zh", "普通话": "zh",
                   "en": "en", "en-us": "en", "en_us": "en", "en-gb": "en", "english": "en", "英文": "en",
                   "英语": "en"}


def check_language(value: object, required: bool = False) -> str | None:
    """A customer's message language: "zh" or "en" (also "中文", "English", "zh-CN" …); blank → None."""
    raw = _as_text(value).strip()
    if not raw:
        if required:
            raise FieldError(_("This field is required."))
        return None
    code = _LANGUAGE_WORDS.get(raw.lower())
    if code is None:
        raise FieldError(_("Not a valid language: %(value)s. Use zh (Chinese) or en (English).", value=raw))
    return code


def check_money(value: object, *, allow_zero: bool = True) -> Decimal:
    """Money as Decimal with at most 2 decimal places; never float arithmetic."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise FieldError(_("Amount must be a number such as 19.90.")) from None
    if not amount.is_finite():
        raise FieldError(_("Amount must be a number such as 19.90."))
    if abs(amount) >= Decimal("10000000000"):
        # Checked before quantize(), which raises InvalidOperation on huge values such as 1e400.
        raise FieldError(_("Amount is too large."))
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError(_("Amount may have at most 2 decimal places."))
    if amount < 0:
        raise FieldError(_("Amount must not be negative."))
    if amount == 0 and not allow_zero:
        raise FieldError(_("Amount must be greater than zero."))
    if amount >= Decimal("10000000000"):
        raise FieldError(_("Amount is too large."))
    return amount.quantize(Decimal("0.01"))


def check_date(value: object, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise FieldError(_("This field is required."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FieldError(_("Date must be in the form YYYY-MM-DD.")) from None


def check_bool(value: object) -> bool:
    """Checkbox and JSON booleans alike: "y", "on", "true", "1" (any case) are true."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "y", "yes", "on")
    return bool(value)


def check_text(value: object, limit: int, *, required: bool = False) -> str | None:
    """Trimmed text of at most `limit` characters; blank is None (or an error when required)."""
    raw = str(value).strip() if value is not None else ""
    if required and not raw:
        raise FieldError(_("This field is required."))
    if len(raw) > limit:
        raise FieldError(_("At most %(n)d characters.", n=limit))
    return raw or None


def check_int(value: object, *, required: bool = True, minimum: int | None = None,
              maximum: int | None = None) -> int | None:
    """A whole number, optionally bounded; blank is None unless required."""
    if value in (None, ""):
        if required:
            raise FieldError(_("This field is required."))
        return None
    if isinstance(value, bool):
        raise FieldError(_("Must be a whole number."))
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise FieldError(_("Must be a whole number.")) from None
    if minimum is not None and maximum is not None and not minimum <= number <= maximum:
        raise FieldError(_("Must be between %(lo)d and %(hi)d.", lo=minimum, hi=maximum))
    if minimum is not None and number < minimum:
        raise FieldError(_("Must be at least %(n)d.", n=minimum))
    return number


def check_version(value: object) -> int | None:
    """The optimistic-lock version a form or API call sent back: None when absent, else an int.

    Raises `Invalid` naming `version` (not `FieldError`): a bad version is a whole-request error.
    """
    from app.services.errors import Invalid

    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise Invalid({"version": _("Not a valid version: %(value)s.", value=value)}) from None
