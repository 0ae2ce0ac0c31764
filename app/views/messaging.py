"""Messaging pages: message templates (CRUD through the service, preview on a real customer, enable)
and the Outbox (every message with its state; failed ones retried from here)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from app.extensions import db
from app.labels import LANGUAGE_CHOICES
from app.models.message import MESSAGE_STATUSES, MessageTemplate
from app.security.current import current_actor
from app.services import outbox, templates
from app.services.errors import CrmError, Invalid
from app.views.base import ServiceModelView, Writes, run_action
from app.views.datamodel import CrmSQLAInterface

PURPOSE_CHOICES = [("service", _l("Service notice")), ("marketing", _l("Marketing"))]
CHANNELS_CHOICES = [("sms", _l("SMS")), ("email", _l("Email")), ("sms,email", _l("SMS and email"))]
STATUS_LABELS = {
    "queued": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
    "cancelled": _l("Cancelled"), "suppressed": _l("Suppressed (no consent)"),
}
TEMPLATE_LABELS = {
    "code": _l("Code"), "language": _l("Language"), "name": _l("Name"), "purpose": _l("Purpose"),
    "channels": _l("Channels"), "subject": _l("Email subject"), "body": _l("Text"), "enabled": _l("Enabled"),
}
TEMPLATE_COLUMNS = list(TEMPLATE_LABELS)


def _label(choices: list) -> callable:
    table = dict(choices)
    return lambda v: str(table.get(v, v or ""))


class MessageTemplateModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(MessageTemplate)
    route_base = "/message-templates"
    writes = Writes(create=templates.create, update=templates.update, delete=templates.delete)
    list_title = _l("Message templates")
    label_columns = {**TEMPLATE_LABELS, "preview_link": _l("Preview")}
    list_columns = ["code", "language", "name", "purpose", "channels", "enabled", "preview_link"]
    search_columns = ["code", "language", "purpose", "enabled"]
    show_columns = TEMPLATE_COLUMNS
    # Enabling happens on the preview page, after the text was seen on a real customer.
    add_columns = [c for c in TEMPLATE_COLUMNS if c != "enabled"]
    edit_columns = add_columns + ["version"]
    order_columns = ["code", "language", "purpose", "enabled"]
    base_order = ("code", "asc")
    description_columns = {
        "code": _l("ticket_ack, ticket_transfer, ticket_resolved, or the code of the care rule that sends it."),
        "body": _l("Placeholders: %(names)s. Missing facts are replaced by a neutral wording.",
                   names=", ".join("{{ %s }}" % k for k in templates.PLACEHOLDERS)),  # noqa: UP031
        "enabled": _l("Preview the template on a real customer before enabling it."),
    }
    add_form_extra_fields = {
        "code": StringField(_l("Code"), validators=[InputRequired()]),
        "language": SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[InputRequired()]),
        "purpose": SelectField(_l("Purpose"), choices=PURPOSE_CHOICES, validators=[InputRequired()]),
        "channels": SelectField(_l("Channels"), choices=CHANNELS_CHOICES, validators=[InputRequired()]),
        "body": TextAreaField(_l("Text"), validators=[InputRequired()]),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {
        "name": lambda v: _(v) if v else "",
        "language": _label(LANGUAGE_CHOICES),
        "purpose": _label(PURPOSE_CHOICES),
        "channels": _label(CHANNELS_CHOICES),
    }


class MessagePreviewView(BaseView):
    """Render a template for a real customer (by number or mobile); enable or disable it."""

    route_base = "/message-templates/preview"
    default_view = "show"
    method_permission_name = {"show": "show", "enable": "edit"}

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        template = db.session.get(MessageTemplate, pk)
        if template is None:
            return self.render_template("crm/not_found.html"), 404
        ref = (request.args.get("customer") or "").strip()
        result, error = None, None
        if ref:
            try:
                result = templates.preview(pk, ref)
            except Invalid as exc:
                error = exc.text()
        return self.render_template("crm/message_preview.html", tpl=template, ref=ref, result=result,
                                    error=error, placeholders=templates.PLACEHOLDERS)

    @expose("/<int:pk>/enable", methods=["POST"])
    @has_access
    def enable(self, pk: int):  # noqa: ANN201
        wanted = request.form.get("enabled") == "1"
        try:
            templates.set_enabled(pk, wanted, current_actor(), previewed_on=request.form.get("customer"))
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self.render_template("crm/not_found.html"), 404
            flash(exc.text(), "danger")
        else:
            flash(_("Template enabled.") if wanted else _("Template disabled."), "success")
        return redirect(url_for("MessagePreviewView.show", pk=pk, customer=request.form.get("customer") or None))


class OutboxView(BaseView):
    """Every outgoing message and its state; failed messages can be retried, queued ones cancelled."""

    route_base = "/outbox"
    default_view = "index"
    method_permission_name = {"index": "list", "retry": "edit", "cancel": "edit"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        status = request.args.get("status") if request.args.get("status") in MESSAGE_STATUSES else None
        channel = request.args.get("channel") if request.args.get("channel") in ("sms", "email") else None
        try:
            page = max(int(request.args.get("page", 0)), 0)
        except ValueError:
            page = 0
        raw_customer = request.args.get("customer") or ""
        customer = int(raw_customer) if raw_customer.isdigit() and len(raw_customer) < 10 else None
        size = 50
        rows = outbox.listing(status=status, channel=channel, customer_id=customer, limit=size + 1,
                              offset=page * size)
        return self.render_template(
            "crm/message_outbox.html", rows=rows[:size], more=len(rows) > size, page=page, status=status,
            channel=channel, customer=customer, counts=outbox.status_counts(), statuses=STATUS_LABELS,
            languages=dict(LANGUAGE_CHOICES),
        )

    def _act(self, fn, pk: int, done: str):  # noqa: ANN001, ANN202
        return run_action(self, lambda: fn(pk, current_actor()), done,
                          url_for("OutboxView.index", status=request.form.get("status") or None))

    @expose("/<int:pk>/retry", methods=["POST"])
    @has_access
    def retry(self, pk: int):  # noqa: ANN201
        return self._act(outbox.retry, pk, _("Message queued again."))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk: int):  # noqa: ANN201
        return self._act(outbox.cancel, pk, _("Message cancelled."))
