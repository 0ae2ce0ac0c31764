"""Telecom records scoped to visible customers: usage, bills, payments, business history.

Bills, usage and business changes are written by billing runs and services, never edited by hand:
their pages and APIs are read-only. Payments are recorded through `services.payments`, which
settles the bill in the same commit. Subscriptions have their own module.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.labels import (
    BILL_STATUS_CHOICES,
    CHANGE_TYPE_CHOICES,
    LINE_TYPE_CHOICES,
    PAYMENT_METHOD_CHOICES,
)
from app.models.bill import Bill, BillLine
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.payment import Payment
from app.models.subscription import Subscription
from app.models.usage import UsageRecord
from app.security.access import CustomerAccessFilter
from app.services import payments
from app.timefmt import localtime
from app.views.base import ServiceModelApi, ServiceModelView, Writes
from app.views.datamodel import CrmSQLAInterface

SCOPED = [["customer_id", CustomerAccessFilter, lambda: None]]


def _customer_shown(relation: Any) -> Any:
    """What a list row shows of its customer (`Customer.__repr__`: name and masked mobile)."""
    return joinedload(relation).load_only(Customer.id, Customer.name, Customer.mobile)


class EagerSQLAInterface(CrmSQLAInterface):
    """`CrmSQLAInterface` whose row queries load the related records a list shows in the same
    statement: FAB's list reads none, so each row's customer was one more query (20 a page).
    The id-only page and count queries replace the entities, which drops these options."""

    def __init__(self, obj: type, *eager: Any, **kwargs: Any) -> None:
        super().__init__(obj, **kwargs)
        self.eager = eager

    def apply_inner_select_joins(self, query: Any, select_columns: list[str] | None = None,
                                 aliases_mapping: dict[str, Any] | None = None) -> Any:
        query = super().apply_inner_select_joins(query, select_columns, aliases_mapping)
        if self.eager and query.column_descriptions[0]["expr"] is self.obj:
            query = query.options(*self.eager)
        return query
READ_ONLY_VIEW = ["can_list", "can_show"]
READ_ONLY_API = ["can_get", "can_info"]


def _fmt(choices: list) -> callable:
    table = dict(choices)
    return lambda v: str(table.get(v, v))


COMMON_LABELS = {
    "customer": _l("Customer"), "customer_id": _l("Customer No."), "subscription": _l("Line"),
    "plan": _l("Plan"), "number": _l("Number"), "effective_date": _l("Effective date"),
    "expiry_date": _l("Expiry date"), "status": _l("Status"), "month": _l("Month"),
    "voice_minutes": _l("Voice minutes"), "sms_count": _l("SMS"), "data_mb": _l("Data (MB)"),
    "base_fee": _l("Base fee"), "vas_fee": _l("VAS fees"), "voice_overage": _l("Voice overage"),
    "data_overage": _l("Data overage"), "other_fee": _l("Other"), "total": _l("Total"),
    "paid_amount": _l("Paid"), "due_date": _l("Due date"), "issued_at": _l("Issued at"),
    "bill": _l("Bill"), "item_type": _l("Item"), "description": _l("Description"), "amount": _l("Amount"),
    "paid_at": _l("Paid at"), "method": _l("Method"), "operator": _l("Operator"), "reference": _l("Reference"),
    "change_type": _l("Change"), "before": _l("Before"), "after": _l("After"), "created_at": _l("Time"),
    "reason": _l("Reason"),
}


class UsageRecordModelView(ServiceModelView):
    datamodel = EagerSQLAInterface(UsageRecord, _customer_shown(UsageRecord.customer),
                                   joinedload(UsageRecord.subscription).joinedload(Subscription.plan))
    route_base = "/usage"
    base_permissions = READ_ONLY_VIEW
    base_filters = SCOPED
    base_order = ("id", "desc")
    list_title = _l("Monthly usage")
    show_title = _l("Monthly usage")
    label_columns = COMMON_LABELS
    list_columns = ["customer", "subscription", "month", "voice_minutes", "sms_count", "data_mb"]
    search_columns = ["month"]
    show_columns = list_columns


class BillLineModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(BillLine)
    route_base = "/bill-lines"
    base_permissions = READ_ONLY_VIEW
    base_filters = SCOPED  # by the line's bill (see scope_customers); unscoped, Sales saw every bill line
    list_title = _l("Bill lines")
    show_title = _l("Bill line")
    label_columns = COMMON_LABELS
    list_columns = ["item_type", "description", "amount"]
    show_columns = list_columns
    formatters_columns = {"item_type": _fmt(LINE_TYPE_CHOICES)}


class BillModelView(ServiceModelView):
    datamodel = EagerSQLAInterface(Bill, _customer_shown(Bill.customer))
    route_base = "/bills"
    base_permissions = READ_ONLY_VIEW
    base_filters = SCOPED
    base_order = ("id", "desc")
    list_title = _l("Bills")
    show_title = _l("Bill")
    label_columns = COMMON_LABELS
    list_columns = ["customer", "month", "total", "paid_amount", "due_date", "status"]
    search_columns = ["month", "status", "due_date"]
    show_columns = ["customer", "month", "base_fee", "vas_fee", "voice_overage", "data_overage", "other_fee",
                    "total", "paid_amount", "due_date", "status", "issued_at"]
    related_views = [BillLineModelView]
    formatters_columns = {"status": _fmt(BILL_STATUS_CHOICES), "issued_at": localtime}


class PaymentModelView(ServiceModelView):
    datamodel = EagerSQLAInterface(Payment, _customer_shown(Payment.customer), joinedload(Payment.bill),
                                   joinedload(Payment.operator))
    route_base = "/payments"
    writes = Writes(create=payments.record)
    base_filters = SCOPED
    base_order = ("id", "desc")
    list_title = _l("Payments")
    add_title = _l("Record payment")
    show_title = _l("Payment")
    label_columns = COMMON_LABELS
    list_columns = ["customer", "paid_at", "amount", "method", "bill", "operator"]
    search_columns = ["method", "paid_at"]
    show_columns = list_columns + ["reference"]
    add_columns = ["customer", "bill", "amount", "method", "reference"]
    formatters_columns = {"method": _fmt(PAYMENT_METHOD_CHOICES), "paid_at": localtime}


class BusinessChangeModelView(ServiceModelView):
    datamodel = EagerSQLAInterface(BusinessChange, _customer_shown(BusinessChange.customer),
                                   joinedload(BusinessChange.operator))
    route_base = "/business-changes"
    base_permissions = READ_ONLY_VIEW
    base_filters = SCOPED
    base_order = ("id", "desc")
    list_title = _l("Business changes")
    show_title = _l("Business change")
    label_columns = COMMON_LABELS
    list_columns = ["created_at", "customer", "change_type", "before", "after", "operator"]
    search_columns = ["change_type", "created_at"]
    show_columns = list_columns + ["effective_date", "reason"]
    formatters_columns = {"change_type": _fmt(CHANGE_TYPE_CHOICES), "created_at": localtime}


def _api(model: type, name: str, columns: list[str], writes: Writes | None = None,
         add_columns: list[str] | None = None, scoped: bool = True) -> type:
    attrs = {
        "resource_name": name,
        "datamodel": CrmSQLAInterface(model),
        "allow_browser_login": True,
        "base_order": ("id", "desc"),
        "list_columns": ["id"] + columns,
        "show_columns": ["id"] + columns,
        "writes": writes or Writes(),
        "add_columns": add_columns or [],
        "edit_columns": [],
    }
    if scoped:
        attrs["base_filters"] = SCOPED
    return type(f"{model.__name__}Api", (ServiceModelApi,), attrs)


UsageRecordApi = _api(UsageRecord, "usage_records",
                      ["customer_id", "subscription_id", "month", "voice_minutes", "sms_count", "data_mb"])
BillApi = _api(Bill, "bills", ["customer_id", "month", "base_fee", "vas_fee", "voice_overage", "data_overage",
                               "other_fee", "total", "paid_amount", "due_date", "status"])
PaymentApi = _api(
    Payment, "payments", ["customer_id", "bill_id", "paid_at", "amount", "method", "operator_id", "reference"],
    Writes(create=payments.record), ["customer_id", "bill_id", "amount", "method", "reference"],
)
BusinessChangeApi = _api(BusinessChange, "business_changes",
                         ["customer_id", "subscription_id", "change_type", "before", "after", "effective_date",
                          "created_at", "operator_id", "reason"])
