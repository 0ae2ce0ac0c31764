"""Translated labels and choice lists shared by every view (one place, one translation)."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

CUSTOMER_LABELS = {
    "id": _l("Customer No."),
    "name": _l("Name"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "id_number": _l("Resident ID number"),
    "id_number_masked": _l("Resident ID number"),
    "mobile": _l("Mobile"),
    "mobile_masked": _l("Mobile"),
    "carrier": _l("Carrier"),
    "carrier_label": _l("Carrier"),
    "landline": _l("Landline"),
    "email": _l("Email"),
    "address": _l("Address"),
    "city": _l("City"),
    "segment": _l("Segment"),
    "segment_label": _l("Segment"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "owner": _l("Owner (salesperson)"),
    "department": _l("Department"),
    "plan": _l("Current plan"),
    "consent_marketing": _l("Consents to marketing contact"),
    "consent_analytics": _l("Consents to analytics use"),
    "language": _l("Message language"),
    "language_label": _l("Message language"),
    "created_at": _l("Created at"),
    "updated_at": _l("Updated at"),
}

GENDER_CHOICES = [("M", _l("Male")), ("F", _l("Female"))]
# The language a customer's messages are written in (customer.language).
LANGUAGE_CHOICES = [("zh", _l("Chinese")), ("en", _l("English"))]
STATUS_CHOICES = [("active", _l("Active")), ("suspended", _l("Suspended")), ("closed", _l("Closed"))]
SEGMENT_CHOICES = [
    ("high_value", _l("High value")),
    ("potential", _l("Potential")),
    ("ordinary", _l("Ordinary")),
    ("low_value", _l("Low value")),
]
CARRIER_LABELS = {
    "cmcc": _l("China Mobile"),
    "cucc": _l("China Unicom"),
    "ctcc": _l("China Telecom"),
    "cbn": _l("China Broadnet"),
    "mvno": _l("Virtual operator"),
    "unknown": _l("Unknown carrier"),
}
# Own msgids: "Mobile" alone is the customer's mobile number (手机号), not a kind of plan.
PLAN_TYPE_CHOICES = [("mobile", _l("Mobile plan")), ("broadband", _l("Broadband plan")),
                     ("fusion", _l("Fusion plan"))]
SUBSCRIPTION_STATUS_CHOICES = [
    ("active", _l("Active")), ("suspended", _l("Suspended")), ("terminated", _l("Terminated")),
]
BILL_STATUS_CHOICES = [("unpaid", _l("Unpaid")), ("partial", _l("Partly paid")), ("paid", _l("Paid"))]
LINE_TYPE_CHOICES = [
    ("base", _l("Base fee")), ("vas", _l("Value-added services")), ("voice_overage", _l("Voice overage")),
    ("data_overage", _l("Data overage")), ("other", _l("Other")),
]
PAYMENT_METHOD_CHOICES = [
    ("cash", _l("Cash")), ("bank", _l("Bank withholding")), ("alipay", _l("Alipay")),
    ("wechat", _l("WeChat Pay")), ("card", _l("Bank card")),
]
CHANGE_TYPE_CHOICES = [
    ("open", _l("Open account")), ("plan_change", _l("Plan change")),
    ("vas_subscribe", _l("VAS subscribe")), ("vas_unsubscribe", _l("VAS unsubscribe")),
    ("suspend", _l("Suspend")), ("resume", _l("Resume")), ("close", _l("Close account")),
    ("profile_update", _l("Profile update")), ("merge", _l("Customer merge")),
]
AUDIT_ACTION_CHOICES = [
    ("create", _l("Create")), ("update", _l("Update")), ("delete", _l("Delete")), ("login", _l("Login")),
    ("login_failed", _l("Failed login")), ("reveal", _l("Reveal personal data")), ("export", _l("Export")),
    ("merge", _l("Customer merge")),
]


def label_of(choices: list[tuple[str, object]], value: str | None) -> str:
    return text_of(dict(choices).get(value, value or ""))


# (id of a lazy label, locale) → (the label, its text). The label is held so its id is never reused.
_TEXTS: dict[tuple[int, Any], tuple[LazyString, str]] = {}


def text_of(label: object) -> str:
    """`str(label)`, with a lazy translation looked up once per process and language: a list page
    shows some sixty such labels (status, segment, carrier…), each otherwise a catalogue look-up
    through Flask-Babel's request context."""
    if not isinstance(label, LazyString):
        return str(label)
    key = (id(label), get_locale())
    held = _TEXTS.get(key)
    if held is None or held[0] is not label:
        held = _TEXTS[key] = (label, str(label))
    return held[1]
