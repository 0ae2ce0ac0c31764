"""Hand-written customer pages: the 360 view, reveal of personal data, and quick search."""

from __future__ import annotations

import re

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.labels import (
    BILL_STATUS_CHOICES,
    CHANGE_TYPE_CHOICES,
    GENDER_CHOICES,
    LINE_TYPE_CHOICES,
    PAYMENT_METHOD_CHOICES,
    SUBSCRIPTION_STATUS_CHOICES,
    label_of,
)
from app.models.customer import Customer
from app.security.access import scope_customers
from app.security.current import current_actor
from app.services import customer360, customer_merge, customers
from app.services.errors import CrmError, NotFound
from app.services.validation import FieldError, check_id_number


class Customer360View(BaseView):
    route_base = "/customer360"
    default_view = "search"
    class_permission_name = "Customer360"
    method_permission_name = {"show": "show", "search": "show", "reveal": "reveal"}

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            data = customer360.load(pk, actor)
        except NotFound:
            # A merged customer's old id leads to the customer it was merged into (alias).
            survivor = customer_merge.resolve_alias(pk, actor)
            if survivor is not None:
                flash(_("Customer #%(old)d was merged into this customer.", old=pk), "info")
                return redirect(url_for("Customer360View.show", pk=survivor))
            return self.render_template("crm/not_found.html"), 404
        # Remembered as the page to return to after Edit → Save or a language switch.
        self.update_redirect()
        return self.render_template(
            "crm/customer360.html",
            d=data,
            can_reveal=actor.can("can_reveal"),
            can_merge=self.appbuilder.sm.has_access("can_change", "CustomerMergeView"),
            label_of=label_of,
            choices={
                "gender": GENDER_CHOICES,
                "sub_status": SUBSCRIPTION_STATUS_CHOICES,
                "bill_status": BILL_STATUS_CHOICES,
                "line": LINE_TYPE_CHOICES,
                "method": PAYMENT_METHOD_CHOICES,
                "change": CHANGE_TYPE_CHOICES,
            },
        )

    @expose("/<int:pk>/reveal", methods=["POST"])
    @has_access
    def reveal(self, pk: int):  # noqa: ANN201
        try:
            values = customers.reveal(pk, current_actor())
        except CrmError as exc:
            db.session.rollback()
            return {"message": str(exc.message)}, exc.status
        return {"result": values}

    @expose("/search")
    @has_access
    def search(self):  # noqa: ANN201
        """One box for name, mobile (full or prefix) or resident ID: straight to 360 on a unique hit."""
        q = (request.args.get("q") or "").strip()
        if not q:
            return redirect(url_for("CustomerModelView.list"))
        actor = current_actor()
        compact = re.sub(r"[\s-]", "", q)
        if re.fullmatch(r"\d{17}[\dXx]", compact):
            try:
                check_id_number(compact)
            except FieldError as exc:
                flash(str(exc), "warning")
                return redirect(url_for("CustomerModelView.list"))
            hit = customers.find_by_id_number(compact, actor)
            if hit is not None:
                return redirect(url_for("Customer360View.show", pk=hit.id))
            flash(_("No customer with this resident ID number."), "info")
            return redirect(url_for("CustomerModelView.list"))
        if re.fullmatch(r"1\d{10}", compact):
            stmt = scope_customers(select(Customer.id).where(Customer.mobile == compact), actor)
            hit = db.session.execute(stmt).scalar()
            if hit is not None:
                return redirect(url_for("Customer360View.show", pk=hit))
            flash(_("No customer with this mobile number."), "info")
            return redirect(url_for("CustomerModelView.list"))
        if re.fullmatch(r"\d{3,10}", compact):
            return redirect(url_for("CustomerModelView.list", _flt_0_mobile=compact))
        return redirect(url_for("CustomerModelView.list", _flt_2_name=q))
