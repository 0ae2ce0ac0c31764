"""SLA policies (Managers edit them; a ModelView through the service) and the SLA board page."""

from __future__ import annotations

from flask import url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from werkzeug.routing import BuildError
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.models.base import utcnow
from app.models.sla import SlaPolicy, TicketSla
from app.models.ticket import Ticket
from app.models.user import CrmUser
from app.security.access import scope_tickets
from app.security.current import current_actor
from app.services import sla_policies
from app.services.tickets import PRIORITY_CHOICES, TYPE_CHOICES
from app.views.base import ServiceModelView, Writes
from app.views.datamodel import CrmSQLAInterface

POLICY_LABELS = {
    "ticket_type": _l("Ticket type"), "priority": _l("Priority"),
    "response_minutes": _l("First response within (minutes)"),
    "resolve_minutes": _l("Resolution within (minutes)"), "warn_percent": _l("Warn at (percent of target)"),
}
POLICY_COLUMNS = list(POLICY_LABELS)


def _label(choices: list) -> callable:
    table = dict(choices)
    return lambda v: str(table.get(v, v or ""))


class SlaPolicyModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(SlaPolicy)
    route_base = "/sla-policies"
    writes = Writes(create=sla_policies.create, update=sla_policies.update, delete=sla_policies.delete)
    list_title = _l("SLA policies")
    label_columns = POLICY_LABELS
    list_columns = POLICY_COLUMNS
    show_columns = POLICY_COLUMNS
    add_columns = POLICY_COLUMNS
    edit_columns = POLICY_COLUMNS + ["version"]
    search_columns = ["ticket_type", "priority"]
    base_order = ("ticket_type", "asc")
    page_size = 40
    description_columns = {
        "warn_percent": _l("A warning is raised when this share of a target has passed (the clock pauses "
                           "while the ticket waits for the customer)."),
    }
    add_form_extra_fields = {
        "ticket_type": SelectField(_l("Ticket type"), choices=TYPE_CHOICES, validators=[InputRequired()]),
        "priority": SelectField(_l("Priority"), choices=PRIORITY_CHOICES, validators=[InputRequired()]),
        "response_minutes": IntegerField(_l("First response within (minutes)"), validators=[InputRequired()]),
        "resolve_minutes": IntegerField(_l("Resolution within (minutes)"), validators=[InputRequired()]),
        "warn_percent": IntegerField(_l("Warn at (percent of target)"), default=80, validators=[Optional()]),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {"ticket_type": _label(TYPE_CHOICES), "priority": _label(PRIORITY_CHOICES)}


class SlaBoardView(BaseView):
    """Open tickets whose SLA is in warning or breached (escalations included), most urgent first."""

    route_base = "/sla"
    default_view = "index"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        stmt = (
            select(Ticket, TicketSla, CrmUser.username)
            .join(TicketSla, TicketSla.ticket_id == Ticket.id)
            .outerjoin(CrmUser, CrmUser.id == TicketSla.escalated_to_id)
            .where(TicketSla.stopped_at.is_(None),
                   or_(TicketSla.response_warned_at.is_not(None), TicketSla.resolve_warned_at.is_not(None),
                       TicketSla.response_breached_at.is_not(None), TicketSla.resolve_breached_at.is_not(None)))
            .order_by(TicketSla.resolve_due).limit(200)
        )
        rows = db.session.execute(scope_tickets(stmt, current_actor())).all()
        return self.render_template("crm/sla_board.html", rows=rows, now=utcnow(), ticket_link=ticket_link,
                                    types=dict(TYPE_CHOICES), priorities=dict(PRIORITY_CHOICES))


def ticket_link(ticket_id: int) -> str:
    """The ticket's page (owned by the tickets area), or the ticket API record if no page is registered."""
    for endpoint in ("TicketDeskView.show", "TicketModelView.show"):
        try:
            return url_for(endpoint, pk=ticket_id)
        except BuildError:
            continue
    return f"/api/v1/tickets/{ticket_id}"
