"""Service desk pages and API: my queue, new ticket (customer look-up while typing), the ticket page
with its timeline and actions, attachments, the FAB ticket list, routing rules and the `tickets` API.

Views are thin: every write is a call into `app.services.tickets` / `attachments` / `ticket_routing`;
row rules come from `app.security.access.scope_tickets` (pages, API and downloads alike).
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.models.customer import Customer
from app.models.subscription import Subscription
from app.models.ticket import Ticket, TicketRoutingRule
from app.security.access import TICKET_ACCESS_FILTER, scope_customers, sees_all_tickets
from app.security.current import current_actor
from app.services import attachments, kb, ticket_routing, tickets
from app.services.errors import CrmError, Invalid, NotFound
from app.services.masking import mask_mobile
from app.services.validation import FieldError, check_id_number
from app.timefmt import localtime
from app.views.base import ServiceModelApi, ServiceModelView, Writes, crm_error_response
from app.views.datamodel import CrmSQLAInterface
from app.views.kpi_filters import KpiListInterface, yes_no_field

TICKET_LABELS = {
    "id": _l("ID"), "ticket_no": _l("Ticket No."), "channel": _l("Channel"), "ticket_type": _l("Type"),
    "category": _l("Category"), "priority": _l("Priority"), "status": _l("Status"), "customer": _l("Customer"),
    "subscription": _l("Subscription"), "subject": _l("Subject"), "description": _l("Description"),
    "department": _l("Department"), "assignee": _l("Assignee"), "created_at": _l("Created at"),
    "resolved_at": _l("Resolved at"), "transfer_count": _l("Transfers"), "complaint_process": _l("Complaint process"),
    "complaint_result": _l("Complaint result"), "resolution": _l("Resolution"),
}
QUEUE_TABS = {"mine": _l("My tickets"), "unassigned": _l("Department queue"), "all": _l("All open")}
ASSIGN_NOTES = {"auto": _l("least-loaded agent"), "manual": _l("assigned by a manager"), "take": _l("taken")}


def _label(choices: list) -> Any:
    table = dict(choices)
    return lambda v: str(table.get(v, v or ""))


def _not_found(view: BaseView) -> Any:
    return view.render_template("crm/not_found.html"), 404


class TicketDeskView(BaseView):
    """My queue, new ticket, the ticket page and its actions, attachments."""

    route_base = "/tickets"
    default_view = "queue"
    method_permission_name = {
        "queue": "list", "new": "add", "lookup": "add", "show": "show", "download": "show",
        "act": "edit", "upload": "edit",
    }

    @expose("/queue")
    @has_access
    def queue(self):  # noqa: ANN201
        actor = current_actor()
        tabs = dict(QUEUE_TABS) if sees_all_tickets(actor) else {k: v for k, v in QUEUE_TABS.items() if k != "all"}
        default = "all" if sees_all_tickets(actor) else "mine"
        tab = request.args.get("tab") if request.args.get("tab") in tabs else default
        return self.render_template(
            "crm/ticket_queue.html", tab=tab, tabs=tabs, rows=tickets.queue(actor, tab),
            counts={k: tickets.queue_count(actor, k) for k in tabs}, cap=tickets.QUEUE_COUNT_CAP,
            labels=self._labels(),
        )

    @staticmethod
    def _labels() -> dict[str, Any]:
        # Translated once per request: a lazy string looks its catalogue up again at every use, and
        # the queue prints four labels on each of 100 rows (a third of its rendering time).
        return {name: {key: str(text) for key, text in dict(pairs).items()} for name, pairs in (
            ("channel", tickets.CHANNEL_CHOICES), ("type", tickets.TYPE_CHOICES),
            ("priority", tickets.PRIORITY_CHOICES), ("status", tickets.STATUS_CHOICES),
            ("event", tickets.EVENT_LABELS), ("assign", ASSIGN_NOTES))}

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):  # noqa: ANN201
        actor = current_actor()
        form = request.form.to_dict() if request.method == "POST" else dict(request.args)
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            try:
                ticket = tickets.create(form, actor)
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
            else:
                flash(_("Ticket %(no)s created.", no=ticket.ticket_no), "success")
                try:
                    tickets.get(ticket.id, actor)
                except NotFound:  # routed to another department's agent: out of this agent's rows
                    return redirect(url_for("TicketDeskView.queue"))
                return redirect(url_for("TicketDeskView.show", pk=ticket.id))
        customer = None
        subs: list[Subscription] = []
        cid = tickets.check_id(form.get("customer_id"))
        if cid is not None:
            customer = db.session.execute(
                scope_customers(select(Customer).where(Customer.id == cid), actor)).scalar()
            if customer is not None:
                subs = self._subscriptions(customer.id)
        return self.render_template(
            "crm/ticket_new.html", form=form, errors=errors, customer=customer, subscriptions=subs,
            choices={"channel": tickets.CHANNEL_CHOICES, "type": tickets.TYPE_CHOICES,
                     "priority": tickets.PRIORITY_CHOICES},
            departments=tickets.departments(),
        )

    @staticmethod
    def _subscriptions(customer_id: int) -> list[Subscription]:
        return list(db.session.execute(
            select(Subscription).where(Subscription.customer_id == customer_id).order_by(Subscription.id)
        ).scalars())

    @expose("/lookup")
    @has_access
    def lookup(self):  # noqa: ANN201
        """Customers matching a mobile (full, or a prefix of 3+ digits), a line number (full), a resident
        ID, or a name prefix, within the caller's rows; at most 10, masked, with their subscriptions."""
        actor = current_actor()
        q = re.sub(r"[\s-]", "", request.args.get("q") or "")[:32]
        stmt = None
        if re.fullmatch(r"\d{17}[\dXx]", q):
            try:
                stmt = select(Customer).where(Customer.id_number == check_id_number(q))
            except FieldError:
                stmt = None
        elif re.fullmatch(r"1\d{10}", q):
            # the caller's contact mobile, or one of their lines (a customer may call from any of them)
            lines = select(Subscription.customer_id).where(Subscription.number == q)
            stmt = select(Customer).where((Customer.mobile == q) | Customer.id.in_(lines))
        elif re.fullmatch(r"1\d{2,9}", q):
            stmt = select(Customer).where(Customer.mobile.startswith(q, autoescape=True))
        elif len(q) >= 1 and not q.isdigit():
            stmt = select(Customer).where(Customer.name.startswith(q, autoescape=True))
        if stmt is None:
            return jsonify(result=[])
        found = db.session.execute(scope_customers(stmt, actor).order_by(Customer.id).limit(10)).scalars().all()
        subs: dict[int, list[dict[str, Any]]] = {}
        if found:
            for s in db.session.execute(select(Subscription).where(
                    Subscription.customer_id.in_([c.id for c in found])).order_by(Subscription.id)).scalars():
                subs.setdefault(s.customer_id, []).append(
                    {"id": s.id, "label": f"{mask_mobile(s.number)} · {s.plan.name if s.plan else ''}",
                     "status": s.status})
        return jsonify(result=[
            {"id": c.id, "name": c.name, "mobile": mask_mobile(c.mobile), "id_number": c.id_number_masked,
             "city": c.city or "", "subscriptions": subs.get(c.id, [])} for c in found])

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            ticket = tickets.get(pk, actor)
        except NotFound:
            return _not_found(self)
        try:
            summary = tickets.customer_panel(ticket.customer_id, actor)
        except NotFound:
            summary = None
        try:
            suggested = kb.suggest(f"{ticket.subject} {ticket.description}", 5)
        except Exception:  # noqa: BLE001 - suggestions are a help, never a reason the ticket page fails
            db.session.rollback()
            suggested = []
        moves = tickets.TRANSITIONS.get(ticket.status, frozenset())
        mine = ticket.assignee_id == actor.id
        may_work = sees_all_tickets(actor) or ticket.assignee_id in (None, actor.id)
        all_departments = tickets.departments()
        return self.render_template(
            "crm/ticket_show.html", t=ticket, actor=actor, summary=summary, events=tickets.timeline(ticket),
            transfers=tickets.transfers(ticket), dept_times=tickets.department_times(ticket),
            attachments=attachments.list_for(ticket.id), earlier=tickets.earlier_tickets(ticket, actor),
            suggested=suggested, moves=moves, mine=mine, may_work=may_work,
            is_manager=sees_all_tickets(actor), agents=tickets.assignable_agents(ticket),
            departments=[d for d in all_departments if d.id != ticket.department_id],
            dept_names={d.id: d.name for d in all_departments},
            labels=self._labels(), survey=_survey_for(ticket), kb_from_ticket=_kb_from_ticket_url(ticket),
            sla_state=_sla_for(ticket), kb_article_url=_kb_article_url,
            allowed_types=", ".join(sorted(attachments.ALLOWED)),
            max_mb=attachments.max_bytes() / 1024 / 1024,
        )

    @expose("/<int:pk>/act", methods=["POST"])
    @has_access
    def act(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        form = request.form
        action = form.get("action")
        try:
            if action == "take":
                tickets.take(pk, actor)
                message = _("You took the ticket.")
            elif action == "note":
                tickets.add_note(pk, form.get("body"), actor)
                message = _("Note added.")
            elif action == "customer_reply":
                tickets.add_note(pk, form.get("body"), actor, kind="customer_reply")
                message = _("Customer reply recorded.")
            elif action == "wait":
                tickets.wait_for_customer(pk, form.get("body"), actor)
                message = _("Waiting for the customer.")
            elif action == "transfer":
                tickets.transfer(pk, form.get("department_id"), form.get("note"), actor)
                message = _("Ticket transferred.")
            elif action == "resolve":
                tickets.resolve(pk, form.to_dict(), actor)
                message = _("Ticket resolved.")
            elif action == "close":
                tickets.close(pk, actor)
                message = _("Ticket closed.")
            elif action == "reopen":
                tickets.reopen(pk, form.get("reason"), actor)
                message = _("Ticket reopened.")
            elif action == "assign":
                tickets.assign(pk, form.get("assignee_id"), actor)
                message = _("Ticket assigned.")
            else:
                raise Invalid({"action": _("Not a valid choice: %(value)s.", value=action or "")})
        except NotFound:
            db.session.rollback()
            return _not_found(self)
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return redirect(url_for("TicketDeskView.show", pk=pk))
        flash(message, "success")
        try:
            tickets.get(pk, actor)
        except NotFound:  # handed to another department: no longer in this agent's rows
            return redirect(url_for("TicketDeskView.queue"))
        return redirect(url_for("TicketDeskView.show", pk=pk))

    @expose("/<int:pk>/attachments", methods=["POST"])
    @has_access
    def upload(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        upload = request.files.get("file")
        try:
            if upload is None:
                raise Invalid({"file": _("Choose a file to upload.")})
            attachments.save(pk, upload.stream, upload.filename, actor)
        except NotFound:
            db.session.rollback()
            return _not_found(self)
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
        else:
            flash(_("File attached."), "success")
        return redirect(url_for("TicketDeskView.show", pk=pk))

    @expose("/<int:pk>/attachments/<int:aid>")
    @has_access
    def download(self, pk: int, aid: int):  # noqa: ANN201
        try:
            row, path = attachments.open_for_download(pk, aid, current_actor())
        except NotFound:
            return _not_found(self)
        response = send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.original_name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _survey_for(ticket: Ticket) -> Any:
    """The ticket's satisfaction survey, when the survey area provides one (hook: `surveys.for_subject`)."""
    from app.services import surveys

    finder = getattr(surveys, "for_subject", None)
    if finder is None:
        return None
    try:
        return finder("ticket", ticket.id)
    except Exception:  # noqa: BLE001 - another area's read; the ticket page stays up without it
        db.session.rollback()
        return None


def _sla_for(ticket: Ticket) -> Any:
    """The ticket's SLA clocks from the SLA area (`sla.for_ticket`), or None."""
    from app.services import sla

    finder = getattr(sla, "for_ticket", None)
    if finder is None:
        return None
    try:
        return finder(ticket.id)
    except Exception:  # noqa: BLE001 - another area's read; the ticket page stays up without it
        db.session.rollback()
        return None


def _kb_article_url(article_id: int) -> str | None:
    from flask import current_app

    if "KbView.article" not in current_app.view_functions:
        return None
    return url_for("KbView.article", pk=article_id)


def _kb_from_ticket_url(ticket: Ticket) -> str | None:
    """The knowledge base's "create article from this ticket" page, once that area registers it."""
    if ticket.status not in ("resolved", "closed"):
        return None
    from flask import current_app

    if "KbView.from_ticket" in current_app.view_functions:
        return url_for("KbView.from_ticket", ticket_id=ticket.id)
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/kb/from-ticket/"):
            return f"/kb/from-ticket/{ticket.id}"
    return None


# --- FAB list of every ticket the user may see ------------------------------------------------------

class TicketModelView(ServiceModelView):
    datamodel = KpiListInterface(Ticket)  # + the dashboard's `sla_breached` filter
    route_base = "/ticket-list"
    list_title = _l("Tickets")
    show_title = _l("Ticket")
    base_filters = TICKET_ACCESS_FILTER
    base_order = ("created_at", "desc")
    label_columns = {**TICKET_LABELS, "sla_breached": _l("SLA breached")}
    list_columns = ["ticket_no", "created_at", "channel", "ticket_type", "priority", "status", "customer",
                    "subject", "department", "assignee"]
    search_columns = ["ticket_no", "channel", "ticket_type", "priority", "status", "department", "assignee",
                      "category", "created_at", "sla_breached"]
    search_form_extra_fields = {"sla_breached": yes_no_field(_l("SLA breached"))}
    show_columns = ["ticket_no", "channel", "ticket_type", "category", "priority", "status", "customer",
                    "subscription", "subject", "description", "department", "assignee", "created_at",
                    "resolved_at", "transfer_count", "complaint_process", "complaint_result", "resolution"]
    formatters_columns = {
        "channel": _label(tickets.CHANNEL_CHOICES),
        "ticket_type": _label(tickets.TYPE_CHOICES),
        "priority": _label(tickets.PRIORITY_CHOICES),
        "status": _label(tickets.STATUS_CHOICES),
        "created_at": localtime,
        "resolved_at": localtime,
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):  # noqa: ANN001, ANN201
        return redirect(url_for("TicketDeskView.show", pk=pk))


# --- routing rules (Managers) -----------------------------------------------------------------------

BLANK = [("", "—")]
RULE_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "enabled": _l("Enabled"), "position": _l("Rule order"),
    "ticket_type": _l("Type"), "category": _l("Category"), "keywords": _l("Keywords"),
    "department": _l("Department"), "priority": _l("Priority"),
}
RULE_COLUMNS = list(RULE_LABELS)
RULE_WRITES = Writes(create=ticket_routing.create_rule, update=ticket_routing.update_rule,
                     delete=ticket_routing.delete_rule)


class TicketRoutingRuleModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(TicketRoutingRule)
    route_base = "/ticket-routing"
    writes = RULE_WRITES
    list_title = _l("Routing rules")
    label_columns = RULE_LABELS
    list_columns = ["position", "code", "name", "enabled", "ticket_type", "category", "keywords", "department",
                    "priority"]
    show_columns = RULE_COLUMNS
    add_columns = RULE_COLUMNS
    edit_columns = RULE_COLUMNS + ["version"]
    base_order = ("position", "asc")
    description_columns = {
        "keywords": _l("Comma-separated; the rule matches when the subject or description contains any of them."),
        "priority": _l("The lowest priority a matching ticket gets (a higher requested priority is kept)."),
        "position": _l("Rules are tried in this order; the first match wins."),
    }
    add_form_extra_fields = {
        "code": StringField(_l("Code"), validators=[InputRequired()]),
        "enabled": BooleanField(_l("Enabled"), default=True),
        "ticket_type": SelectField(_l("Type"), choices=BLANK + tickets.TYPE_CHOICES, validators=[Optional()]),
        "priority": SelectField(_l("Priority"), choices=BLANK + tickets.PRIORITY_CHOICES, validators=[Optional()]),
        "keywords": TextAreaField(_l("Keywords")),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {
        "name": lambda v: _(v) if v else "",
        "ticket_type": _label(tickets.TYPE_CHOICES),
        "priority": _label(tickets.PRIORITY_CHOICES),
    }


# --- REST API `tickets` -----------------------------------------------------------------------------

API_COLUMNS = ["id", "ticket_no", "channel", "ticket_type", "category", "priority", "status", "customer_id",
               "subscription_id", "subject", "description", "department_id", "assignee_id", "created_by_id",
               "complaint_process", "complaint_result", "resolution", "created_at", "updated_at", "assigned_at",
               "first_response_at", "resolved_at", "closed_at", "transfer_count", "reopen_count", "version"]


class TicketApi(ServiceModelApi):
    """Read with the row rules; POST creates (routed and assigned by the service); status changes
    only through POST /<id>/transition, /transfer, /notes, /assign (422 naming the field, 404 outside
    the caller's rows)."""

    resource_name = "tickets"
    datamodel = CrmSQLAInterface(Ticket)
    writes = Writes(create=tickets.create)
    base_filters = TICKET_ACCESS_FILTER
    base_order = ("created_at", "desc")
    allow_browser_login = True
    list_columns = API_COLUMNS
    show_columns = API_COLUMNS
    add_columns = ["channel", "ticket_type", "category", "priority", "customer", "subscription", "subject",
                   "description", "department"]
    search_columns = ["ticket_no", "channel", "ticket_type", "category", "priority", "status", "created_at"]

    def _call(self, fn: Any) -> Any:
        body = self._json_body()
        if body is None:
            return self.response_400(message=_("Request body must be a JSON object."))
        try:
            item = fn(body)
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self._render(200, item)

    @api_expose("/<int:pk>/transition", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def transition(self, pk: int):  # noqa: ANN201
        """Body: {"status": target, ...}: resolution/complaint_process/complaint_result (resolved),
        department_id + note (transferred), assignee_id (assigned), body (waiting_customer),
        reason (reopened)."""
        return self._call(lambda body: tickets.transition(pk, body, current_actor()))

    @api_expose("/<int:pk>/transfer", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def transfer(self, pk: int):  # noqa: ANN201
        """Body: {"department_id": id, "note": hand-over note (required)}."""
        return self._call(lambda body: tickets.transfer(pk, body.get("department_id"), body.get("note"),
                                                        current_actor()))

    @api_expose("/<int:pk>/assign", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def assign(self, pk: int):  # noqa: ANN201
        """Body: {"assignee_id": id}. Managers only."""
        return self._call(lambda body: tickets.assign(pk, body.get("assignee_id"), current_actor()))

    @api_expose("/<int:pk>/notes", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def notes(self, pk: int):  # noqa: ANN201
        """Body: {"body": text, "kind": "note" | "customer_reply"}."""
        def run(body: dict[str, Any]) -> Ticket:
            tickets.add_note(pk, body.get("body"), current_actor(), kind=body.get("kind") or "note")
            return tickets.get(pk, current_actor())
        return self._call(run)

    @api_expose("/<int:pk>/timeline", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def timeline(self, pk: int):  # noqa: ANN201
        """Every event of the ticket, oldest first, and its transfers."""
        try:
            ticket = tickets.get(pk, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        events = [{"id": e.id, "kind": e.kind, "at": e.at.isoformat(), "actor": e.actor.username if e.actor else None,
                   "from_status": e.from_status, "to_status": e.to_status,
                   "from_department_id": e.from_department_id, "to_department_id": e.to_department_id,
                   "assignee_id": e.assignee_id, "body": e.body} for e in tickets.timeline(ticket)]
        moves = [{"from_department_id": t.from_department_id, "to_department_id": t.to_department_id,
                  "note": t.note, "at": t.at.isoformat(), "actor_id": t.actor_id} for t in tickets.transfers(ticket)]
        return self.response(200, result={"events": events, "transfers": moves})
