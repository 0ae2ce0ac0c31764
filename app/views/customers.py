"""Customer list/edit pages and the `customers` REST API; both go through `services.customers`."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from app.labels import CUSTOMER_LABELS, GENDER_CHOICES, LANGUAGE_CHOICES, SEGMENT_CHOICES, STATUS_CHOICES
from app.models.customer import Customer
from app.security.access import ACCESS_FILTER
from app.security.current import current_actor
from app.services import customers
from app.services.errors import CrmError
from app.services.masking import mask_mobile
from app.views.base import ServiceModelApi, ServiceModelView, Writes, crm_error_response
from app.views.datamodel import CrmSQLAInterface
from app.views.kpi_filters import KpiListInterface, churn_band_field

FORM_COLUMNS = [
    "name", "id_number", "mobile", "gender", "birth_date", "landline", "email", "address", "city",
    "segment", "status", "owner", "department", "consent_marketing", "consent_analytics", "language",
]
MOBILE_HELP = _l("11 digits. On edit the number is shown masked: leave it as is to keep it.")
WRITES = Writes(create=customers.create, update=customers.update, delete=customers.delete)


def _choice(label: object, choices: list, required: bool = False) -> SelectField:
    validators = [InputRequired()] if required else [Optional()]
    return SelectField(label, choices=[("", "—")] + choices, validators=validators, widget=Select2Widget())


class CustomerModelView(ServiceModelView):
    datamodel = KpiListInterface(Customer)  # + the dashboard's churn-band filter (`churn_risk`)
    route_base = "/customers"
    writes = WRITES
    base_filters = ACCESS_FILTER
    base_order = ("id", "desc")
    list_title = _l("Customers")
    show_title = _l("Customer")
    add_title = _l("Add customer")
    edit_title = _l("Edit customer")
    label_columns = {**CUSTOMER_LABELS, "churn_risk": _l("Churn risk")}
    list_columns = [
        "id", "name", "mobile_masked", "carrier_label", "id_number_masked", "city", "plan",
        "segment_label", "status_label", "owner",
    ]
    order_columns = ["id", "name", "city", "created_at"]
    # Exact search by resident ID is the quick-search box (blind index); FAB's search form
    # cannot build a field for a virtual column (`churn_risk` brings its own, below).
    search_columns = ["name", "mobile", "city", "plan", "status", "segment", "owner", "created_at", "churn_risk"]
    search_form_extra_fields = {"churn_risk": churn_band_field()}
    show_columns = [
        "id", "name", "gender", "birth_date", "id_number_masked", "mobile_masked", "carrier_label",
        "landline", "email", "address", "city", "plan", "segment_label", "status_label", "owner",
        "department", "consent_marketing", "consent_analytics", "language_label", "created_at", "updated_at",
    ]
    add_columns = FORM_COLUMNS
    edit_columns = FORM_COLUMNS + ["version"]
    description_columns = {
        "id_number": _l("18 characters; birth date and gender are taken from it when left blank."),
        "mobile": MOBILE_HELP,
        "landline": _l("Area code and number, e.g. 010-12345678."),
        "language": _l("SMS and email to this customer use templates in this language (Chinese when left blank)."),
    }
    add_form_extra_fields = {
        "id_number": StringField(_l("Resident ID number"), validators=[InputRequired()], widget=BS3TextFieldWidget()),
        # Declared here, not derived from the model: FAB would add its generic "already exists"
        # check for the unique column, which runs before (and instead of) the service's check that
        # names the existing customer and also reports a duplicate ID number.
        "mobile": StringField(_l("Mobile"), validators=[InputRequired()], widget=BS3TextFieldWidget(),
                              description=MOBILE_HELP),
        "gender": _choice(_l("Gender"), GENDER_CHOICES),
        "segment": _choice(_l("Segment"), SEGMENT_CHOICES),
        "status": _choice(_l("Status"), STATUS_CHOICES),
        "language": _choice(_l("Message language"), LANGUAGE_CHOICES),
        # Non-nullable booleans: unchecked means False, not "missing" (FAB would require them).
        "consent_marketing": BooleanField(_l("Consents to marketing contact")),
        "consent_analytics": BooleanField(_l("Consents to analytics use")),
    }
    edit_form_extra_fields = {**add_form_extra_fields, "version": HiddenField()}
    validators_columns = {"name": [InputRequired()], "mobile": [InputRequired()]}

    def prefill_form(self, form, pk):  # noqa: ANN001, ANN201 - FAB's signature
        item = self.datamodel.get(pk, self._base_filters)
        # Personal data is shown masked on the form; a masked value sent back changes nothing.
        form.id_number.data = item.id_number_masked
        form.mobile.data = mask_mobile(item.mobile)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):  # noqa: ANN001, ANN201
        # The 360 page is the customer's detail page.
        return redirect(url_for("Customer360View.show", pk=pk))

    def post_add_redirect(self):  # noqa: ANN201
        item = getattr(self, "_last_item", None)
        if item is not None:
            return redirect(url_for("Customer360View.show", pk=item.id))
        return super().post_add_redirect()

    # "Merge…" on the list (issue 8.5): two ticked rows open the merge page for them, as "Merge…" on
    # the 360 page does. FAB checks `can_change` on this list; the merge page itself checks its own
    # permission and the row rules (a customer outside the caller's rows is a 404 there).
    method_permission_name = {"merge_selected": "change"}

    @action("merge", _l("Merge…"), icon="fa-compress-arrows-alt", single=False)
    def merge_selected(self, items):  # noqa: ANN001, ANN201 - FAB's action signature
        self.update_redirect()  # so that get_redirect() leads back to the list with its filters
        if not self.appbuilder.sm.has_access("can_change", "CustomerMergeView"):
            flash(_("You may not merge customers."), "danger")
            return redirect(self.get_redirect())
        ids = sorted({item.id for item in items if item is not None})
        if len(ids) != 2:
            flash(_("Select exactly two customers to merge (%(n)d selected).", n=len(ids)), "warning")
            return redirect(self.get_redirect())
        # The older record is kept by default; the merge page offers to keep the other one.
        return redirect(url_for("CustomerMergeView.compare", pk=ids[0], other=ids[1]))

    def _get_list_widget(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        widgets = super()._get_list_widget(*args, **kwargs)
        # Roles that may edit customers but not merge them (Sales) get no "Merge…" entry.
        if not self.appbuilder.sm.has_access("can_change", "CustomerMergeView"):
            args = widgets["list"].template_args
            args["actions"] = {k: a for k, a in (args.get("actions") or {}).items() if k != "merge"}
        return widgets


class IdNumberEqualFilter(BaseFilter):
    """`id_number eq <full resident ID>`: `Customer.id_number ==` compares the HMAC blind index.

    FAB cannot derive filters for the hybrid property (it is no column), so the API's interface
    offers exactly this one; an invalid or unknown number simply matches nothing.
    """

    name = _l("Equal to")
    arg_name = "eq"
    matches_at_most_one = True  # the blind index is unique: the list skips its count query

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return query.filter(Customer.id_number == str(value or ""))


class _CustomerFilterConverter(SQLAFilterConverter):
    def convert(self, col_name: str):  # noqa: ANN201
        if col_name == "id_number":
            return [IdNumberEqualFilter(col_name, self.datamodel)]
        return super().convert(col_name)


class CustomerInterface(CrmSQLAInterface):
    filter_converter_class = _CustomerFilterConverter


class CustomerApi(ServiceModelApi):
    resource_name = "customers"
    datamodel = CustomerInterface(Customer)
    writes = WRITES
    base_filters = ACCESS_FILTER
    base_order = ("id", "desc")
    allow_browser_login = True
    list_columns = [
        "id", "name", "gender", "birth_date", "id_number_masked", "mobile", "carrier", "landline",
        "email", "address", "city", "segment", "status", "owner_id", "department_id", "plan_id",
        "language", "created_at", "version",
    ]
    show_columns = list_columns + ["consent_marketing", "consent_analytics", "updated_at"]
    add_columns = FORM_COLUMNS
    edit_columns = FORM_COLUMNS
    order_columns = ["id", "name", "city", "created_at"]
    search_columns = ["name", "mobile", "id_number", "city", "plan", "status", "segment", "owner", "created_at"]
    masked_fields = {"mobile": mask_mobile}
    renamed_fields = {"id_number_masked": "id_number"}
    openapi_spec_methods = {"reveal": {"post": {"description": "Reveal one customer's full ID and mobile (audited)."}}}

    @expose("/<int:pk>/reveal", methods=["POST"])
    @protect()
    @safe
    @permission_name("get")
    def reveal(self, pk: int):  # noqa: ANN201
        """Full resident ID and mobile of one customer, audited.
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The unmasked values
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        try:
            values = customers.reveal(pk, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, result=values)
