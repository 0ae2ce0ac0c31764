"""Sales pages and APIs (issue 3): leads, opportunities, contact logs, orders, the stage playbook.

FAB ModelViews give the lists (sorted, searchable) and the add/edit forms; each record's detail page
is hand-written (`crm/sales_*.html`) with its actions: log a contact, convert, move the stage, make
and move an order. Every write goes through the sales services; rows are scoped by
`access.SALES_ACCESS_FILTER` on pages and APIs alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.models.base import utcnow
from app.models.contact_log import ContactLog
from app.models.lead import Lead
from app.models.opportunity import OPEN_STAGES, Opportunity
from app.models.order import SalesOrder
from app.models.payment import PAYMENT_METHODS
from app.models.plan import Plan
from app.models.sales_playbook import PlaybookAction
from app.models.vas import ValueAddedService
from app.security.access import SALES_ACCESS_FILTER, sees_all_sales
from app.security.current import current_actor
from app.services import contact_logs, leads, opportunities, orders, playbook
from app.services.care import business_date
from app.services.contact_logs import CONTACT_LOG_LABELS
from app.services.errors import CrmError, Invalid
from app.services.leads import LEAD_LABELS
from app.services.masking import mask_mobile
from app.services.opportunities import OPPORTUNITY_LABELS, TRANSITIONS
from app.services.orders import ORDER_LABELS
from app.services.playbook import PLAYBOOK_LABELS
from app.services.sales import (
    LEAD_STATUS_LABELS,
    LINE_KIND_LABELS,
    METHOD_LABELS,
    ORDER_STATE_LABELS,
    SOURCE_LABELS,
    STAGE_LABELS,
    choices,
)
from app.timefmt import localtime
from app.views.base import ServiceModelApi, ServiceModelView, Writes, crm_error_response
from app.views.datamodel import CrmSQLAInterface

BLANK = [("", "—")]


def _select(label: Any, options: list, required: bool = False) -> SelectField:
    return SelectField(label, choices=BLANK + options, widget=Select2Widget(),
                       validators=[InputRequired()] if required else [Optional()])


def _label(table: dict) -> Any:
    return lambda v: str(table.get(v, v or ""))


def _today() -> dt.date:
    return business_date(utcnow())


def _not_found(view: Any) -> Any:
    return view.render_template("crm/not_found.html"), 404


def _form() -> dict[str, Any]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _log_contact(target: str, pk: int) -> dict[str, list[str]]:
    """Handle the shared "log a contact" form; returns field errors (empty when saved)."""
    data = _form()
    data[target] = pk
    try:
        contact_logs.create(data, current_actor())
    except Invalid as exc:
        db.session.rollback()
        return exc.errors
    except CrmError as exc:
        db.session.rollback()
        flash(exc.text(), "danger")
        return {}
    flash(_("Contact logged."), "success")
    return {}


# --- leads ------------------------------------------------------------------------------------------

LEAD_FORM = ["name", "mobile", "id_number", "email", "city", "source", "interest_plan", "interest", "notes", "owner"]
LEAD_WRITES = Writes(create=leads.create, update=leads.update)
MOBILE_HELP = _l("11 digits. On edit the number is shown masked: leave it as is to keep it.")


class LeadModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(Lead)
    route_base = "/leads"
    writes = LEAD_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("priority_score", "desc")
    list_title = _l("Leads")
    add_title = _l("Add lead")
    edit_title = _l("Edit lead")
    label_columns = LEAD_LABELS
    list_columns = ["id", "name", "mobile_masked", "source_label", "interest", "status_label", "priority_score",
                    "owner", "created_at"]
    order_columns = ["id", "name", "priority_score", "created_at"]
    search_columns = ["name", "mobile", "source", "status", "owner", "city", "created_at"]
    add_columns = LEAD_FORM
    edit_columns = LEAD_FORM + ["version"]
    description_columns = {
        "id_number": _l("Optional; needed to create the customer on conversion."),
        "mobile": MOBILE_HELP,
        "owner": _l("Only a manager can choose or change the owner; a salesperson's lead is their own."),
    }
    add_form_extra_fields = {
        "mobile": StringField(_l("Mobile"), validators=[InputRequired()], widget=BS3TextFieldWidget(),
                              description=MOBILE_HELP),
        "id_number": StringField(_l("Resident ID number"), validators=[Optional()], widget=BS3TextFieldWidget()),
        "source": _select(_l("Source"), choices(SOURCE_LABELS), required=True),
        "notes": TextAreaField(_l("Notes")),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    method_permission_name = {"show": "show", "log": "change", "convert": "change", "status": "change",
                              "import_leads": "change"}

    def prefill_form(self, form, pk):  # noqa: ANN001, ANN201 - FAB's signature
        item = self.datamodel.get(pk, self._base_filters)
        form.mobile.data = mask_mobile(item.mobile) if item.mobile else ""
        form.id_number.data = item.id_number_masked or ""

    def post_add_redirect(self):  # noqa: ANN201
        item = getattr(self, "_last_item", None)
        if item is not None:
            return redirect(url_for("LeadModelView.show", pk=item.id))
        return super().post_add_redirect()

    def _page(self, lead: Lead, errors: dict | None = None, status: int = 200) -> Any:
        actor = current_actor()
        return self.render_template(
            "crm/sales_lead.html", lead=lead, parts=leads.score_parts(lead), score=leads.score(lead),
            logs=contact_logs.for_target(actor, lead_id=lead.id), methods=choices(METHOD_LABELS),
            moves=[(s, LEAD_STATUS_LABELS[s]) for s in leads.STATUS_MOVES[lead.status]],
            errors=errors or {}, form=request.form, today=_today(),
            opportunity=db.session.execute(select(Opportunity).where(Opportunity.lead_id == lead.id)).scalar(),
        ), status

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        try:
            lead = leads.get(pk, current_actor())
        except CrmError:
            return _not_found(self)
        self.update_redirect()
        return self._page(lead)

    @expose("/<int:pk>/log", methods=["POST"])
    @has_access
    def log(self, pk: int):  # noqa: ANN201
        try:
            leads.get(pk, current_actor())
        except CrmError:
            return _not_found(self)
        errors = _log_contact("lead_id", pk)
        if errors:
            return self._page(leads.get(pk, current_actor()), errors, 422)
        return redirect(url_for("LeadModelView.show", pk=pk))

    @expose("/<int:pk>/status", methods=["POST"])
    @has_access
    def status(self, pk: int):  # noqa: ANN201
        try:
            leads.set_status(pk, request.form.get("status"), request.form.get("disqualify_reason"), current_actor())
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return _not_found(self)
            flash(exc.text(), "danger")
        else:
            flash(_("Lead status changed."), "success")
        return redirect(url_for("LeadModelView.show", pk=pk))

    @expose("/import", methods=["GET", "POST"])
    @has_access
    def import_leads(self):  # noqa: ANN201
        """Upload a CSV/XLSX of leads: the same checks as entry, a per-row report, optional dry run."""
        report, errors = None, {}
        if request.method == "POST":
            upload = request.files.get("file")
            try:
                if upload is None or not upload.filename:
                    raise Invalid({"file": _("Choose a file.")})
                report = leads.import_file(upload.filename, upload.read(), current_actor(),
                                           dry_run=bool(request.form.get("dry_run")))
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
        return self.render_template("crm/sales_lead_import.html", report=report, errors=errors,
                                    fields=leads.IMPORT_FIELDS, sources=list(SOURCE_LABELS)), (422 if errors else 200)

    @expose("/<int:pk>/convert", methods=["GET", "POST"])
    @has_access
    def convert(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            lead = leads.get(pk, actor)
        except CrmError:
            return _not_found(self)
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            try:
                opp = leads.convert(pk, _form(), actor)
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
            else:
                flash(_("Lead converted: customer and opportunity created."), "success")
                return redirect(url_for("OpportunityModelView.show", pk=opp.id))
        plans = db.session.execute(select(Plan).where(Plan.active.is_(True)).order_by(Plan.monthly_fee)).scalars()
        return self.render_template("crm/sales_convert.html", lead=lead, errors=errors, form=request.form,
                                    plans=list(plans), duplicates=leads.find_duplicates(lead.mobile, None, lead.id)
                                    ), (422 if errors else 200)


class LeadApi(ServiceModelApi):
    resource_name = "leads"
    datamodel = CrmSQLAInterface(Lead)
    writes = LEAD_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("priority_score", "desc")
    allow_browser_login = True
    list_columns = ["id", "name", "mobile", "id_number_masked", "email", "city", "source", "interest_plan_id",
                    "interest", "notes", "owner_id", "status", "disqualify_reason", "priority_score",
                    "last_activity_at", "customer_id", "converted_at", "created_at", "version"]
    show_columns = list_columns
    # `id_number` is no model attribute (it is stored encrypted): accepted by `_unknown_fields` below.
    add_columns = ["name", "mobile", "email", "city", "source", "interest_plan", "interest", "notes", "owner"]
    edit_columns = add_columns + ["status", "disqualify_reason"]
    order_columns = ["id", "priority_score", "created_at", "name"]
    search_columns = ["name", "mobile", "source", "status", "owner", "city", "created_at"]
    masked_fields = {"mobile": mask_mobile}
    renamed_fields = {"id_number_masked": "id_number"}
    openapi_spec_methods = {"convert": {"post": {"description": "Convert a lead: customer + opportunity."}}}

    def _unknown_fields(self, body: dict[str, Any], allowed: list[str]) -> dict[str, list[str]]:
        return super()._unknown_fields(body, [*allowed, "id_number"])

    @api_expose("/<int:pk>/convert", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def convert(self, pk: int):  # noqa: ANN201
        """Convert the lead (creates or links the customer and opens an opportunity, atomically).
        ---
        post:
          responses:
            201:
              description: the opportunity
        """
        body = self._json_body() or {}
        try:
            opp = leads.convert(pk, body, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(201, id=opp.id, customer_id=opp.customer_id)


# --- opportunities ----------------------------------------------------------------------------------

OPP_FORM = ["customer_id", "name", "expected_revenue", "expected_close_date", "plan", "products", "owner"]
OPP_EDIT = ["name", "expected_revenue", "expected_close_date", "plan", "products", "owner"]
OPP_WRITES = Writes(create=opportunities.create, update=opportunities.update)


class OpportunityModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(Opportunity)
    route_base = "/opportunities"
    writes = OPP_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("id", "desc")
    list_title = _l("Opportunities")
    add_title = _l("Add opportunity")
    edit_title = _l("Edit opportunity")
    label_columns = {**OPPORTUNITY_LABELS, "customer_id": _l("Customer No.")}
    list_columns = ["id", "name", "customer", "stage_label", "expected_revenue", "expected_close_date", "owner"]
    order_columns = ["id", "name", "expected_revenue", "expected_close_date"]
    search_columns = ["name", "stage", "owner", "expected_close_date", "created_at"]
    add_columns = OPP_FORM
    edit_columns = OPP_EDIT + ["version"]
    add_form_extra_fields = {
        # A number, not a select: there may be a million customers.
        "customer_id": IntegerField(_l("Customer No."), validators=[InputRequired()]),
    }
    method_permission_name = {"show": "show", "move": "change", "log": "change", "done": "change"}

    def prefill_form(self, form, pk):  # noqa: ANN001, ANN201
        return None

    def _get_add_widget(self, form, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        # Preset the customer when coming from the 360 page's "Add opportunity".
        if form.customer_id.data is None and request.args.get("customer_id", "").isdigit():
            form.customer_id.data = int(request.args["customer_id"])
        return super()._get_add_widget(form, *args, **kwargs)

    def post_add_redirect(self):  # noqa: ANN201
        item = getattr(self, "_last_item", None)
        if item is not None:
            return redirect(url_for("OpportunityModelView.show", pk=item.id))
        return super().post_add_redirect()

    def _page(self, opp: Opportunity, errors: dict | None = None, status: int = 200) -> Any:
        actor = current_actor()
        return self.render_template(
            "crm/sales_opportunity.html", opp=opp, history=opportunities.history(opp), stage_labels=STAGE_LABELS,
            moves=[(s, STAGE_LABELS[s]) for s in TRANSITIONS[opp.stage]],
            suggestions=playbook.for_opportunity(opp, _today()), threshold=playbook.threshold(),
            logs=contact_logs.for_target(actor, opportunity_id=opp.id), methods=choices(METHOD_LABELS),
            orders=list(db.session.execute(select(SalesOrder).where(SalesOrder.opportunity_id == opp.id)
                                           .order_by(SalesOrder.id)).scalars()),
            errors=errors or {}, form=request.form, today=_today(),
        ), status

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        try:
            opp = opportunities.get(pk, current_actor())
        except CrmError:
            return _not_found(self)
        self.update_redirect()
        return self._page(opp)

    @expose("/<int:pk>/move", methods=["POST"])
    @has_access
    def move(self, pk: int):  # noqa: ANN201
        try:
            opportunities.move(pk, request.form.get("stage"), current_actor(), reason=request.form.get("lost_reason"))
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return _not_found(self)
            flash(exc.text(), "danger")
        else:
            flash(_("Stage changed."), "success")
        nxt = request.form.get("next")
        if nxt == "board":
            return redirect(url_for("SalesBoardView.index"))
        return redirect(url_for("OpportunityModelView.show", pk=pk))

    @expose("/<int:pk>/log", methods=["POST"])
    @has_access
    def log(self, pk: int):  # noqa: ANN201
        try:
            opportunities.get(pk, current_actor())
        except CrmError:
            return _not_found(self)
        errors = _log_contact("opportunity_id", pk)
        if errors:
            return self._page(opportunities.get(pk, current_actor()), errors, 422)
        return redirect(url_for("OpportunityModelView.show", pk=pk))

    @expose("/<int:pk>/done/<int:action_id>", methods=["POST"])
    @has_access
    def done(self, pk: int, action_id: int):  # noqa: ANN201
        try:
            playbook.mark_done(pk, action_id, current_actor())
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return _not_found(self)
            flash(exc.text(), "danger")
        return redirect(url_for("OpportunityModelView.show", pk=pk))


class OpportunityApi(ServiceModelApi):
    resource_name = "opportunities"
    datamodel = CrmSQLAInterface(Opportunity)
    writes = OPP_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("id", "desc")
    allow_browser_login = True
    list_columns = ["id", "name", "customer_id", "lead_id", "owner_id", "stage", "expected_revenue",
                    "expected_close_date", "plan_id", "products", "lost_reason", "stage_entered_at", "closed_at",
                    "created_at", "version"]
    show_columns = list_columns
    # Foreign keys as ids, not relations: `_info` would otherwise list other people's customers.
    add_columns = ["customer_id", "name", "expected_revenue", "expected_close_date", "plan", "products", "owner"]
    edit_columns = ["name", "expected_revenue", "expected_close_date", "plan", "products", "owner", "stage",
                    "lost_reason"]
    order_columns = ["id", "expected_revenue", "expected_close_date", "created_at"]
    search_columns = ["name", "stage", "owner", "customer", "expected_close_date", "created_at"]


# --- contact logs -----------------------------------------------------------------------------------

LOG_WRITES = Writes(create=contact_logs.create, update=contact_logs.update)


class ContactLogModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(ContactLog)
    route_base = "/contact-logs"
    writes = Writes(update=contact_logs.update)
    base_filters = SALES_ACCESS_FILTER
    base_order = ("contacted_at", "desc")
    list_title = _l("Contact logs")
    show_title = _l("Contact log")
    edit_title = _l("Edit contact log")
    label_columns = CONTACT_LOG_LABELS
    list_columns = ["contacted_at", "method_label", "lead", "opportunity", "customer", "content", "next_contact_date",
                    "owner"]
    show_columns = ["contacted_at", "method_label", "lead", "opportunity", "customer", "content", "feedback",
                    "next_step", "next_contact_date", "owner", "created_at"]
    search_columns = ["method", "contacted_at", "next_contact_date", "owner"]
    edit_columns = ["method", "content", "feedback", "next_step", "version"]
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields,
                              "method": _select(_l("Method"), choices(METHOD_LABELS), required=True),
                              "content": TextAreaField(_l("Content"), validators=[InputRequired()]),
                              "feedback": TextAreaField(_l("Customer feedback"))}
    formatters_columns = {"contacted_at": localtime}


class ContactLogApi(ServiceModelApi):
    resource_name = "contact_logs"
    datamodel = CrmSQLAInterface(ContactLog)
    writes = LOG_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("contacted_at", "desc")
    allow_browser_login = True
    # `version`: what a client sends back with a PUT (a stale one is a 409).
    list_columns = ["id", "lead_id", "opportunity_id", "customer_id", "contacted_at", "method", "content",
                    "feedback", "next_step", "next_contact_date", "owner_id", "follow_up_task_id", "created_at",
                    "version"]
    show_columns = list_columns
    add_columns = ["lead_id", "opportunity_id", "customer_id", "contacted_at", "method", "content", "feedback",
                   "next_step", "next_contact_date"]
    edit_columns = ["method", "content", "feedback", "next_step"]
    search_columns = ["method", "contacted_at", "next_contact_date", "owner", "lead", "opportunity", "customer"]


# --- orders -----------------------------------------------------------------------------------------

ORDER_WRITES = Writes(create=orders.create, update=orders.update)


class SalesOrderModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(SalesOrder)
    route_base = "/orders"
    writes = Writes()
    base_filters = SALES_ACCESS_FILTER
    base_order = ("id", "desc")
    list_title = _l("Orders")
    label_columns = ORDER_LABELS
    list_columns = ["id", "opportunity", "customer", "state_label", "total", "discount_pct", "owner",
                    "state_changed_at"]
    search_columns = ["state", "owner", "created_at"]
    formatters_columns = {"state_changed_at": localtime}
    method_permission_name = {"show": "show", "new": "change", "move": "change"}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            order = orders.get(pk, actor)
        except CrmError:
            return _not_found(self)
        self.update_redirect()
        moves = [(s, ORDER_STATE_LABELS[s]) for s in orders.TRANSITIONS[order.state]
                 if (order.state, s) not in orders.MANAGER_TRANSITIONS or sees_all_sales(actor)]
        return self.render_template(
            "crm/sales_order.html", order=order, moves=moves, kinds=LINE_KIND_LABELS, threshold=playbook.threshold(),
            methods=[(m, m) for m in PAYMENT_METHODS], awaiting_manager=(order.state == "submitted"
                                                                         and not sees_all_sales(actor)))

    @expose("/new/<int:opportunity_id>", methods=["GET", "POST"])
    @has_access
    def new(self, opportunity_id: int):  # noqa: ANN201
        actor = current_actor()
        try:
            opp = opportunities.get(opportunity_id, actor)
        except CrmError:
            return _not_found(self)
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            lines = []
            for i in range(5):
                kind = request.form.get(f"kind_{i}")
                if not kind:
                    continue
                lines.append({k: request.form.get(f"{k}_{i}") for k in
                              ("kind", "plan_id", "vas_id", "description", "number", "quantity", "unit_price")})
            try:
                order = orders.create({"opportunity_id": opp.id, "notes": request.form.get("notes"), "lines": lines},
                                      actor)
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
            else:
                flash(_("Order created as a draft."), "success")
                return redirect(url_for("SalesOrderModelView.show", pk=order.id))
        plans = db.session.execute(select(Plan).where(Plan.active.is_(True)).order_by(Plan.monthly_fee)).scalars()
        vas = db.session.execute(select(ValueAddedService).where(ValueAddedService.active.is_(True))
                                 .order_by(ValueAddedService.name)).scalars()
        return self.render_template("crm/sales_order_new.html", opp=opp, errors=errors, form=request.form,
                                    plans=list(plans), vas=list(vas), kinds=LINE_KIND_LABELS,
                                    rows=range(5)), (422 if errors else 200)

    @expose("/<int:pk>/move", methods=["POST"])
    @has_access
    def move(self, pk: int):  # noqa: ANN201
        try:
            orders.transition(pk, request.form.get("state"), current_actor(), note=request.form.get("note"),
                              method=request.form.get("method"))
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return _not_found(self)
            flash(exc.text(), "danger")
        else:
            flash(_("Order state changed."), "success")
        return redirect(url_for("SalesOrderModelView.show", pk=pk))


class SalesOrderApi(ServiceModelApi):
    """POST {"opportunity_id", "lines": [...], "notes"}; PUT {"state", "note", "method"} moves the order,
    {"lines"} / {"notes"} edit a draft."""

    resource_name = "orders"
    datamodel = CrmSQLAInterface(SalesOrder)
    writes = ORDER_WRITES
    base_filters = SALES_ACCESS_FILTER
    base_order = ("id", "desc")
    allow_browser_login = True
    list_columns = ["id", "opportunity_id", "customer_id", "owner_id", "state", "total", "list_total", "notes",
                    "decided_by_id", "decided_at", "decision_note", "payment_id", "state_changed_at", "created_at",
                    "version"]
    show_columns = list_columns
    add_columns = ["opportunity_id", "notes"]
    edit_columns = ["notes", "state", "owner"]
    search_columns = ["state", "owner", "opportunity", "customer", "created_at"]

    def _unknown_fields(self, body: dict[str, Any], allowed: list[str]) -> dict[str, list[str]]:
        return super()._unknown_fields(body, [*allowed, "lines", "note", "method"])

    def pre_get(self, data: dict[str, Any]) -> None:
        super().pre_get(data)
        result = data.get("result")
        order = db.session.get(SalesOrder, result["id"]) if isinstance(result, dict) and result.get("id") else None
        if order is not None:
            result["lines"] = [{"kind": ln.kind, "plan_id": ln.plan_id, "vas_id": ln.vas_id,
                                "description": ln.description, "number": mask_mobile(ln.number) if ln.number else None,
                                "quantity": ln.quantity, "unit_price": str(ln.unit_price),
                                "list_price": str(ln.list_price), "subscription_id": ln.subscription_id}
                               for ln in order.lines]


# --- stage playbook (managers configure) -------------------------------------------------------------

PLAYBOOK_COLUMNS = ["stage", "code", "title", "material", "due_days", "discount_threshold", "position", "enabled"]


class PlaybookActionModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(PlaybookAction)
    route_base = "/sales-playbook"
    writes = Writes(create=playbook.create, update=playbook.update, delete=playbook.delete)
    base_order = ("stage", "asc")
    list_title = _l("Stage playbook")
    label_columns = PLAYBOOK_LABELS
    list_columns = PLAYBOOK_COLUMNS
    show_columns = PLAYBOOK_COLUMNS
    add_columns = PLAYBOOK_COLUMNS
    edit_columns = PLAYBOOK_COLUMNS + ["version"]
    add_form_extra_fields = {
        "code": StringField(_l("Code"), validators=[InputRequired()]),
        "stage": _select(_l("Stage"), [(s, STAGE_LABELS[s]) for s in OPEN_STAGES], required=True),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {"title": lambda v: _(v) if v else "", "material": lambda v: _(v) if v else "",
                          "stage": _label(STAGE_LABELS)}


