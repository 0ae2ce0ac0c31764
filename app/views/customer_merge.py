"""Customer merge pages: pick the duplicate, compare side by side, choose per field, confirm.

The customer whose 360 page the user came from is the survivor; the page offers to swap.
Old links of a merged customer keep working: its 360 page redirects to the survivor (in
`Customer360View.show`), and `GET /api/v1/customers/<old id>` answers 308 Permanent Redirect to
the survivor's resource (`api_alias_redirect` below). Writes to an old id (PUT/DELETE) stay 404:
they must not silently change another record.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.labels import CUSTOMER_LABELS, GENDER_CHOICES, SEGMENT_CHOICES, STATUS_CHOICES, label_of
from app.models.customer import Customer
from app.security.current import current_actor
from app.services import customer_merge
from app.services.errors import Conflict, CrmError, Invalid, NotFound
from app.services.masking import mask_mobile

FIELD_LABELS = {**CUSTOMER_LABELS, "owner_id": CUSTOMER_LABELS["owner"],
                "department_id": CUSTOMER_LABELS["department"]}
# Names of the related records shown in the counts; a table added later shows its own name.
TABLE_LABELS = {
    "subscription": _l("Subscriptions"), "bill": _l("Bills"), "payment": _l("Payments"),
    "usage_record": _l("Monthly usage"), "business_change": _l("Business changes"),
    "ticket": _l("Tickets"), "care_task": _l("Care tasks"), "lead": _l("Leads"),
    "opportunity": _l("Opportunities"), "sales_order": _l("Orders"), "contact_log": _l("Contact logs"),
    "survey": _l("Satisfaction surveys"), "churn_score": _l("Churn score"),
    "segment_snapshot": _l("Segment history"), "outbox_message": _l("Messages"), "customer_tag": _l("Tags"),
    "campaign_contact": _l("Campaign contacts"), "customer_alias": _l("Earlier merged customers"),
}


def display(customer: Customer, name: str) -> str:
    """A field's value as pages show it: ID number and mobile masked, choices by their labels."""
    if name == "id_number":
        return customer.id_number_masked
    if name == "mobile":
        return mask_mobile(customer.mobile)
    if name == "gender":
        return label_of(GENDER_CHOICES, customer.gender)
    if name == "segment":
        return label_of(SEGMENT_CHOICES, customer.segment)
    if name == "status":
        return label_of(STATUS_CHOICES, customer.status)
    if name == "owner_id":
        return str(customer.owner or "")
    if name == "department_id":
        return str(customer.department or "")
    value = getattr(customer, name)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else str(value)


class CustomerMergeView(BaseView):
    route_base = "/customer-merge"
    default_view = "pick"
    method_permission_name = {"pick": "change", "compare": "change"}

    @expose("/<int:pk>")
    @has_access
    def pick(self, pk: int):  # noqa: ANN201
        """Find the duplicate of customer `pk` by resident ID, mobile or name."""
        actor = current_actor()
        try:
            customer = customer_merge.get_customer(pk, actor)
        except NotFound:
            return self.render_template("crm/not_found.html"), 404
        q = (request.args.get("q") or "").strip()
        found = customer_merge.candidates(q, customer.id, actor) if q else []
        return self.render_template("crm/merge_pick.html", customer=customer, q=q, found=found,
                                    mask_mobile=mask_mobile)

    @expose("/<int:pk>/with/<int:other>", methods=["GET", "POST"])
    @has_access
    def compare(self, pk: int, other: int):  # noqa: ANN201
        """Side by side, a radio per field, the related records that will move; POST merges."""
        actor = current_actor()
        errors: dict[str, list[str]] = {}
        chosen: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            chosen = {f: request.form.get(f"choice_{f}", "survivor") for f in customer_merge.FIELDS}
            try:
                result = customer_merge.merge(pk, other, chosen, actor,
                                              version_survivor=request.form.get("version_survivor"),
                                              version_merged=request.form.get("version_merged"))
            except NotFound:
                db.session.rollback()
                return self.render_template("crm/not_found.html"), 404
            except Invalid as exc:
                db.session.rollback()
                errors, status = exc.errors, 422
            except Conflict:
                db.session.rollback()
                flash(_("One of the two customers was changed since you opened this page. "
                        "Check the values again and confirm."), "warning")
                status = 409
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
                status = exc.status
            else:
                flash(_("Customer #%(old)d was merged into this customer; its old links now lead here.",
                        old=result.merged_id), "success")
                return redirect(url_for("Customer360View.show", pk=result.survivor.id))
        try:
            survivor, merged = customer_merge.load_pair(pk, other, actor)
            plan = [p for p in customer_merge.plan(survivor.id, merged.id, actor) if p.rows]
        except NotFound:
            return self.render_template("crm/not_found.html"), 404
        except CrmError as exc:
            flash(exc.text(), "danger")
            return redirect(url_for("CustomerMergeView.pick", pk=pk))
        rows = []
        for name in customer_merge.FIELDS:
            left, right = display(survivor, name), display(merged, name)
            # Default: the survivor's value, unless it is empty and the duplicate has one.
            default = "merged" if (left in ("", "None") and right not in ("", "None")) else "survivor"
            rows.append({"name": name, "label": FIELD_LABELS.get(name, name), "survivor": left, "merged": right,
                         "same": left == right, "choice": chosen.get(name, default)})
        return self.render_template(
            "crm/merge_compare.html", survivor=survivor, merged=merged, rows=rows, errors=errors,
            plan=plan, table_labels=TABLE_LABELS,
        ), status


def api_alias_redirect(response: Any) -> Any:
    """After-request hook: a 404 for `GET /api/v1/customers/<id>` of a merged id becomes a 308 to
    the survivor. Runs after FAB's authentication (an anonymous caller still gets 401) and only
    when the survivor is among the caller's rows."""
    if response.status_code != 404 or request.method != "GET" or request.endpoint != "CustomerApi.get":
        return response
    pk = (request.view_args or {}).get("pk")
    survivor = customer_merge.resolve_alias(pk, current_actor())
    if survivor is None:
        return response
    return redirect(url_for("CustomerApi.get", pk=survivor, **request.args), code=308)
