"""Plans and value-added services: pages and the `plans` / `value_added_services` APIs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired

from app.labels import PLAN_TYPE_CHOICES
from app.models.plan import Plan
from app.models.vas import ValueAddedService
from app.services import catalog
from app.views.base import ServiceModelApi, ServiceModelView, Writes
from app.views.datamodel import CrmSQLAInterface

PLAN_LABELS = {
    "code": _l("Code"), "name": _l("Plan name"), "plan_type": _l("Type"),
    "monthly_fee": _l("Monthly fee (CNY)"),
    "voice_minutes": _l("Voice minutes included"), "sms_count": _l("SMS included"),
    "data_mb": _l("Data included (MB)"),
    "voice_overage_rate": _l("Voice overage (CNY/min)"),
    "data_overage_rate": _l("Data overage (CNY/GB)"), "contract_months": _l("Contract months"),
    "active": _l("On sale"),
}
PLAN_COLUMNS = list(PLAN_LABELS)
VAS_LABELS = {
    "code": _l("Code"), "name": _l("Service name"), "monthly_fee": _l("Monthly fee (CNY)"), "active": _l("On sale"),
}
VAS_COLUMNS = list(VAS_LABELS)
PLAN_WRITES = Writes(create=catalog.create_plan, update=catalog.update_plan)
VAS_WRITES = Writes(create=catalog.create_vas, update=catalog.update_vas)


class PlanModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(Plan)
    route_base = "/plans"
    writes = PLAN_WRITES
    list_title = _l("Plans")
    add_title = _l("Add plan")
    edit_title = _l("Edit plan")
    show_title = _l("Plan")
    label_columns = PLAN_LABELS
    list_columns = ["code", "name", "plan_type", "monthly_fee", "voice_minutes", "data_mb", "active"]
    search_columns = ["code", "name", "plan_type", "active"]
    show_columns = PLAN_COLUMNS
    add_columns = PLAN_COLUMNS
    edit_columns = PLAN_COLUMNS + ["version"]
    add_form_extra_fields = {
        "plan_type": SelectField(_l("Type"), choices=PLAN_TYPE_CHOICES, validators=[InputRequired()]),
        "active": BooleanField(_l("On sale"), default=True),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {"plan_type": lambda v: str(dict(PLAN_TYPE_CHOICES).get(v, v)),
                          "active": lambda v: str(_l("Yes") if v else _l("No"))}


class ValueAddedServiceModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(ValueAddedService)
    route_base = "/value-added-services"
    writes = VAS_WRITES
    list_title = _l("Value-added services")
    add_title = _l("Add value-added service")
    edit_title = _l("Edit value-added service")
    show_title = _l("Value-added service")
    formatters_columns = {"active": lambda v: str(_l("Yes") if v else _l("No"))}
    label_columns = VAS_LABELS
    list_columns = VAS_COLUMNS
    search_columns = ["code", "name", "active"]
    show_columns = VAS_COLUMNS
    add_columns = VAS_COLUMNS
    edit_columns = VAS_COLUMNS + ["version"]
    add_form_extra_fields = {"active": BooleanField(_l("On sale"), default=True)}
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}


class PlanApi(ServiceModelApi):
    resource_name = "plans"
    datamodel = CrmSQLAInterface(Plan)
    writes = PLAN_WRITES
    allow_browser_login = True
    list_columns = ["id"] + PLAN_COLUMNS + ["version"]
    show_columns = list_columns
    add_columns = PLAN_COLUMNS
    edit_columns = PLAN_COLUMNS
    search_columns = ["code", "name", "plan_type", "active"]


class ValueAddedServiceApi(ServiceModelApi):
    resource_name = "value_added_services"
    datamodel = CrmSQLAInterface(ValueAddedService)
    writes = VAS_WRITES
    allow_browser_login = True
    list_columns = ["id"] + VAS_COLUMNS + ["version"]
    show_columns = list_columns
    add_columns = VAS_COLUMNS
    edit_columns = VAS_COLUMNS
    search_columns = ["code", "name", "active"]
