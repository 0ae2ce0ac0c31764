"""Subscriptions (lines) and their value-added services: pages, state changes and the API.

Opening a line, changing its plan, suspending/resuming it and ordering or cancelling a VAS are
each one service call that also writes the business change; nothing here edits a line directly.
The change-plan and status forms carry the line's version (issue 7.5): a submit made on a stale
view of the line, including the same form sent twice, is a conflict shown on the form, not a
second change.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.labels import CHANGE_TYPE_CHOICES, SUBSCRIPTION_STATUS_CHOICES
from app.models.plan import Plan
from app.models.subscription import Subscription, SubscriptionVas
from app.security.access import CustomerAccessFilter
from app.security.current import current_actor
from app.services import subscriptions
from app.services.errors import Conflict, CrmError, Invalid, NotFound
from app.services.masking import mask_mobile
from app.views.base import ServiceModelApi, ServiceModelView, Writes, crm_error_response
from app.views.datamodel import CrmSQLAInterface

SCOPED_BY_CUSTOMER = [["customer_id", CustomerAccessFilter, lambda: None]]
SCOPED_BY_LINE = [["subscription_id", CustomerAccessFilter, lambda: None]]
LABELS = {
    "customer": _l("Customer"), "plan": _l("Plan"), "number": _l("Number"),
    "effective_date": _l("Effective date"), "expiry_date": _l("Expiry date"), "status": _l("Status"),
    "subscription": _l("Line"), "vas": _l("Value-added service"), "start_date": _l("Start date"),
    "end_date": _l("End date"), "created_at": _l("Created at"), "updated_at": _l("Updated at"),
}
_STATUS = dict(SUBSCRIPTION_STATUS_CHOICES) | {"cancelled": _l("Cancelled")}
# The status form's target → its title (the business-change names: 停机, 复机, 销户).
_STATUS_ACTIONS = {"suspended": dict(CHANGE_TYPE_CHOICES)["suspend"], "active": dict(CHANGE_TYPE_CHOICES)["resume"],
                   "terminated": dict(CHANGE_TYPE_CHOICES)["close"]}


def line_now(line: Subscription) -> str:
    """The line as it is now, for a conflict message: its plan and status, labelled."""
    return f"{LABELS['plan']}: {line.plan}; {LABELS['status']}: {_STATUS.get(line.status, line.status)}"


class SubscriptionVasModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(SubscriptionVas)
    route_base = "/subscription-vas"
    writes = Writes(create=subscriptions.subscribe_vas,
                    delete=lambda pk, actor: subscriptions.unsubscribe_vas(pk, actor))
    base_filters = SCOPED_BY_LINE
    list_title = _l("Value-added services on lines")
    add_title = _l("Order a value-added service")
    show_title = _l("Value-added service on a line")
    label_columns = LABELS
    list_columns = ["subscription", "vas", "start_date", "end_date", "status"]
    show_columns = list_columns
    add_columns = ["subscription", "vas", "start_date", "end_date"]
    formatters_columns = {"status": lambda v: str(_STATUS.get(v, v))}


class SubscriptionModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(Subscription)
    route_base = "/subscriptions"
    writes = Writes(create=subscriptions.open_line)
    base_filters = SCOPED_BY_CUSTOMER
    base_order = ("id", "desc")
    list_title = _l("Subscriptions")
    add_title = _l("Open a line")
    show_title = _l("Subscription")
    label_columns = LABELS
    list_columns = ["customer", "number", "plan", "effective_date", "expiry_date", "status"]
    search_columns = ["number", "plan", "status", "expiry_date"]
    show_columns = list_columns
    add_columns = ["customer", "plan", "number", "effective_date", "expiry_date"]
    related_views = [SubscriptionVasModelView]
    # A mobile line's number is the customer's mobile: masked wherever it is listed.
    formatters_columns = {"status": lambda v: str(_STATUS.get(v, v)), "number": mask_mobile}
    method_permission_name = {"change_plan": "change", "set_status": "change"}
    show_template = "crm/subscription_show.html"

    def _line_or_404(self, pk: int) -> Subscription | None:
        return self.datamodel.get(pk, self._base_filters)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any):  # noqa: ANN201
        """FAB's show page, plus the line's actions (change plan, suspend, resume) for who may change it."""
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._show(pk)
        can_change = self.appbuilder.sm.has_access("can_change", self.class_permission_name)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views,
                                    line=self._line_or_404(pk) if can_change else None)

    def _stale(self, pk: int) -> Subscription | None:
        """After a conflict: roll back, warn with the line as it is now, and return it (its version
        goes on the form, so saving again is a deliberate choice made on what the user now sees)."""
        db.session.rollback()
        line = self._line_or_404(pk)
        if line is not None:
            flash(_("Someone else changed this line while you were editing. Now: %(details)s. "
                    "Your choice is still on the form: check it and save again.", details=line_now(line)), "warning")
        return line

    @expose("/<int:pk>/change-plan", methods=["GET", "POST"])
    @has_access
    def change_plan(self, pk: int):  # noqa: ANN201
        """Choose a new plan for a line; it takes effect from the next billing month."""
        line = self._line_or_404(pk)
        if line is None:
            return self.render_template("crm/not_found.html"), 404
        plans = db.session.execute(select(Plan).where(Plan.active.is_(True)).order_by(Plan.monthly_fee)).scalars()
        errors: dict[str, list[str]] = {}
        version = request.form.get("version") or line.version  # what the user saw: kept across a failed save
        if request.method == "POST":
            try:
                subscriptions.change_plan(pk, request.form.get("plan_id"), current_actor(),
                                          reason=(request.form.get("reason") or "").strip()[:255] or None,
                                          version=request.form.get("version"))
            except (Conflict, StaleDataError):  # StaleDataError: lost the race at commit
                # Keep the user's choice on the form; the page shows the line as it is now.
                line = self._stale(pk)
                if line is None:
                    return self.render_template("crm/not_found.html"), 404
                version = line.version  # the next save is a deliberate overwrite
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            except CrmError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
            else:
                flash(_("Plan changed; it takes effect from the next billing month."), "success")
                return redirect(url_for("Customer360View.show", pk=line.customer_id))
        return self.render_template("crm/change_plan.html", line=line, plans=list(plans), errors=errors,
                                    form=request.form, version=version)

    @expose("/<int:pk>/status/<status>", methods=["GET", "POST"])
    @has_access
    def set_status(self, pk: int, status: str):  # noqa: ANN201
        """Suspend (停机), resume (复机) or close (销户) a line: a form with a reason and the line's
        version, so a submit made on a stale view of the line (or sent twice) changes nothing."""
        line = self._line_or_404(pk)
        if line is None or status not in _STATUS_ACTIONS:
            return self.render_template("crm/not_found.html"), 404
        version = request.form.get("version") or line.version  # what the user saw: kept across a failed save
        if request.method == "POST":
            try:
                subscriptions.set_status(pk, status, current_actor(),
                                         reason=(request.form.get("reason") or "").strip()[:255] or None,
                                         version=request.form.get("version"))
            except (Conflict, StaleDataError):  # StaleDataError: lost the race at commit
                line = self._stale(pk)
                if line is None:
                    return self.render_template("crm/not_found.html"), 404
                version = line.version
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
                line = self._line_or_404(pk) or line
            else:
                flash(_("Line status changed."), "success")
                return redirect(url_for("Customer360View.show", pk=line.customer_id))
        return self.render_template("crm/change_status.html", line=line, status=status,
                                    title=_STATUS_ACTIONS[status], status_label=_STATUS.get, form=request.form,
                                    version=version)


class ChangePlanSchema(Schema):
    plan_id = fields.Integer(required=True)
    reason = fields.String(load_default=None, validate=lambda s: len(s) <= 255)
    version = fields.Integer(load_default=None)  # the line's version the client read (optimistic lock)


class ChangeStatusSchema(Schema):
    status = fields.String(required=True)
    reason = fields.String(load_default=None, validate=lambda s: len(s) <= 255)
    version = fields.Integer(load_default=None)


class SubscriptionApi(ServiceModelApi):
    resource_name = "subscriptions"
    datamodel = CrmSQLAInterface(Subscription)
    writes = Writes(create=subscriptions.open_line)
    base_filters = SCOPED_BY_CUSTOMER
    base_order = ("id", "desc")
    allow_browser_login = True
    # `version`: what a client sends back with change_plan / change_status (a stale one is a 409).
    list_columns = ["id", "customer_id", "plan_id", "number", "effective_date", "expiry_date", "status", "version"]
    show_columns = list_columns
    add_columns = ["customer_id", "plan_id", "number", "effective_date", "expiry_date"]
    edit_columns: list[str] = []
    search_columns = ["number", "plan", "status", "expiry_date", "customer"]
    masked_fields = {"number": mask_mobile}
    openapi_spec_methods = {
        "change_plan": {"post": {"description": "Change a line's plan from the next billing month."}},
        "change_status": {"post": {"description": "Suspend, resume or terminate a line."}},
    }

    def _call(self, pk: int, schema: Schema, fn) -> object:  # noqa: ANN001
        body = self._json_body()
        if body is None:
            return self.response_400(message=_("Request body must be a JSON object."))
        try:
            data = schema.load(body)
        except ValidationError as err:
            return self.response_400(message=err.messages)
        try:
            line = fn(pk, data, current_actor())
        except NotFound:
            db.session.rollback()
            return self.response_404()
        except (Conflict, StaleDataError) as exc:  # StaleDataError: another writer won the race at commit
            db.session.rollback()
            if isinstance(exc, StaleDataError):
                line = db.session.get(Subscription, pk)
                exc = Conflict(current=subscriptions.current_values(line) if line else {})
            return self.response(409, message=str(exc.message), current=exc.current)
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self._render(200, line)

    @expose("/<int:pk>/change_plan", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def change_plan(self, pk: int):  # noqa: ANN201
        """Change the plan of a line (effective next billing month).
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    plan_id: {type: integer}
                    reason: {type: string}
                    version: {type: integer}
          responses:
            200:
              description: The line after the change
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The line changed since `version` was read; `current` holds its plan and status
            422:
              $ref: '#/components/responses/422'
        """
        return self._call(pk, ChangePlanSchema(), lambda pk, d, a: subscriptions.change_plan(
            pk, d["plan_id"], a, reason=d.get("reason"), version=d.get("version")))

    @expose("/<int:pk>/change_status", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def change_status(self, pk: int):  # noqa: ANN201
        """Suspend, resume or terminate a line.
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    status: {type: string, enum: [active, suspended, terminated]}
                    reason: {type: string}
                    version: {type: integer}
          responses:
            200:
              description: The line after the change
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The line changed since `version` was read; `current` holds its plan and status
            422:
              $ref: '#/components/responses/422'
        """
        return self._call(pk, ChangeStatusSchema(), lambda pk, d, a: subscriptions.set_status(
            pk, d["status"], a, reason=d.get("reason"), version=d.get("version")))
