"""Care (关怀) pages and APIs: my follow-ups (agenda + calendar), the team page for managers,
care rules (a ModelView through the service) and the `care_tasks` / `care_rules` APIs."""

from __future__ import annotations

import calendar
import datetime as dt

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.labels import PLAN_TYPE_CHOICES, SEGMENT_CHOICES
from app.models.base import utcnow
from app.models.care import CareRule, CareTask
from app.security.access import CARE_TASK_ACCESS_FILTER
from app.security.current import current_actor
from app.services import care, care_rules
from app.services.care_kinds import KINDS, kind_choices
from app.services.errors import Conflict, CrmError
from app.views.base import ServiceModelApi, ServiceModelView, Writes
from app.views.care_task_list import STATUS_LABELS
from app.views.datamodel import CrmSQLAInterface

OUTCOME_CHOICES = [
    ("reached", _l("Reached")), ("not_reached", _l("Not reached")), ("refused", _l("Refused")),
    ("wants_offer", _l("Wants an offer")), ("complaint", _l("Complaint raised")),
]
# Message actions send the message template whose code is the rule's code (Messages → Message templates).
ACTION_CHOICES = [("task", _l("Task for a person")), ("sms", _l("SMS from the rule's template")),
                  ("email", _l("Email from the rule's template"))]
ROLE_CHOICES = [("Sales", _l("Sales")), ("Agent", _l("Agent")), ("Clerk", _l("Clerk")), ("Manager", _l("Manager"))]
TAB_LABELS = {"today": _l("Today"), "overdue": _l("Overdue"), "week": _l("Next 7 days")}


def today() -> dt.date:
    """The business day the pages work with (tests replace this to control the clock)."""
    return care.business_date(utcnow())


def _parse_month(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return default.replace(day=1)


def _conflict_details(current: dict) -> str:
    """The task as the other person left it, in the agenda's words."""
    outcomes = dict(OUTCOME_CHOICES)
    parts = [f"{_('Status')}: {STATUS_LABELS.get(current.get('status'), current.get('status'))}",
             f"{_('Due on')}: {current.get('due_date')}", f"{_('Attempts')}: {current.get('attempts')}"]
    if current.get("outcome"):
        parts.append(f"{_('Outcome')}: {outcomes.get(current['outcome'], current['outcome'])}")
    return "; ".join(parts)


class CareAgendaView(BaseView):
    """我的待办: today / overdue / next 7 days, a month calendar, and completing a task."""

    route_base = "/care"
    default_view = "index"
    method_permission_name = {"index": "list", "complete": "edit"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        day = today()
        tab = request.args.get("tab") if request.args.get("tab") in care.TABS else "today"
        tasks = care.agenda(actor, tab, day)
        month = _parse_month(request.args.get("month"), day)
        counts = care.month_calendar(actor, month)
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
        prev_month = (month - dt.timedelta(days=1)).replace(day=1)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        return self.render_template(
            "crm/care_agenda.html",
            tab=tab, tabs=TAB_LABELS, counts=care.tab_counts(actor, day), today=day,
            rows=[{"task": t, "reason": care.reason(t),
                   "rule": _(t.rule.name) if t.rule else _("Sales follow-up"),
                   "script": _(t.rule.call_script) if t.rule and t.rule.call_script else ""} for t in tasks],
            arrears=care.arrears_amounts([t.customer_id for t in tasks], day),
            outcomes=OUTCOME_CHOICES, month=month, weeks=weeks, day_counts=counts,
            prev_month=prev_month, next_month=next_month,
        )

    @expose("/tasks/<int:pk>/complete", methods=["POST"])
    @has_access
    def complete(self, pk: int):  # noqa: ANN201
        try:
            task = care.complete(pk, request.form.get("outcome"), request.form.get("notes"), current_actor(),
                                 today=today(), version=request.form.get("version"))
        except Conflict as exc:
            db.session.rollback()
            flash(_("Someone else recorded an outcome for this task after you opened the page: %(details)s. "
                    "Nothing was recorded from you; check the task and record your outcome again.",
                    details=_conflict_details(exc.current)), "warning")
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self.render_template("crm/not_found.html"), 404
            flash(exc.text(), "danger")
        else:
            if task.status == "open":
                flash(_("Not reached: the task is rescheduled to %(date)s (attempt %(n)d of %(max)d).",
                        date=task.due_date.isoformat(), n=task.attempts,
                        max=task.rule.max_attempts if task.rule else 3), "info")
            else:
                flash(_("Task completed."), "success")
        return redirect(url_for("CareAgendaView.index", tab=request.form.get("tab") or "today"))


class CareTeamView(BaseView):
    """Managers: completion rate per person and bulk reassignment of open tasks."""

    route_base = "/care/team"
    default_view = "index"
    method_permission_name = {"index": "list", "reassign": "edit"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        try:
            who = int(request.args["assignee"]) if request.args.get("assignee") else None
        except ValueError:
            who = None
        tasks = care.team_open_tasks(actor, who)
        return self.render_template(
            "crm/care_team.html", stats=care.team_stats(actor, today()), tasks=tasks,
            reasons={t.id: care.reason(t) for t in tasks}, users=care.assignable_users(), selected=who,
            today=today(),
        )

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self):  # noqa: ANN201
        try:
            moved = care.reassign(request.form.getlist("task_id"), request.form.get("assignee_id"), current_actor())
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
        else:
            flash(_("%(n)d task(s) reassigned.", n=moved), "success")
        return redirect(url_for("CareTeamView.index"))


RULE_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "kind": _l("Trigger"), "enabled": _l("Enabled"),
    "target_segment": _l("Target segment"), "target_plan_type": _l("Target plan type"),
    "target_city": _l("Target city"), "min_tenure_days": _l("Minimum tenure (days)"),
    "params": _l("Parameters (JSON)"), "action": _l("Action"), "lead_days": _l("Lead time (days)"),
    "owner_role": _l("Owner role"), "call_script": _l("Call script"), "max_attempts": _l("Maximum attempts"),
    "retry_days": _l("Retry after (days)"), "covered_through": _l("Evaluated through"),
}
RULE_COLUMNS = [c for c in RULE_LABELS if c != "covered_through"]
RULE_WRITES = Writes(create=care_rules.create, update=care_rules.update, delete=care_rules.delete)
BLANK = [("", "—")]


def _label(choices: list) -> callable:
    table = dict(choices)
    return lambda v: str(table.get(v, v or ""))


class CareRuleModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(CareRule)
    route_base = "/care-rules"
    writes = RULE_WRITES
    list_title = _l("Care rules")
    label_columns = RULE_LABELS
    list_columns = ["code", "name", "kind", "enabled", "target_segment", "lead_days", "owner_role",
                    "covered_through"]
    search_columns = ["code", "kind", "enabled", "owner_role"]
    show_columns = RULE_COLUMNS + ["covered_through"]
    add_columns = RULE_COLUMNS
    edit_columns = RULE_COLUMNS + ["version"]
    description_columns = {
        "params": _l("For example {\"offsets\": [7, 30]} (days), {\"interval_days\": 90}, "
                     "{\"min_days\": 15, \"escalate_days\": 45}."),
        "lead_days": _l("How many days before the due date the task appears."),
    }
    add_form_extra_fields = {
        # Uniqueness is the service's check (FAB's Unique validator misreads the edited row's pk).
        "code": StringField(_l("Code"), validators=[InputRequired()]),
        "kind": SelectField(_l("Trigger"), choices=kind_choices(), validators=[InputRequired()]),
        "enabled": BooleanField(_l("Enabled"), default=True),
        "target_segment": SelectField(_l("Target segment"), choices=BLANK + SEGMENT_CHOICES, validators=[Optional()]),
        "target_plan_type": SelectField(_l("Target plan type"), choices=BLANK + PLAN_TYPE_CHOICES,
                                        validators=[Optional()]),
        "action": SelectField(_l("Action"), choices=ACTION_CHOICES, validators=[InputRequired()]),
        "owner_role": SelectField(_l("Owner role"), choices=ROLE_CHOICES, validators=[InputRequired()]),
        "params": TextAreaField(_l("Parameters (JSON)")),
        "call_script": TextAreaField(_l("Call script")),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {
        "name": lambda v: _(v) if v else "",
        "call_script": lambda v: _(v) if v else "",
        "kind": lambda v: str(KINDS[v].label) if v in KINDS else v,
        "target_segment": _label(SEGMENT_CHOICES),
        "target_plan_type": _label(PLAN_TYPE_CHOICES),
        "action": _label(ACTION_CHOICES),
        "owner_role": _label(ROLE_CHOICES),
    }


class CareRuleApi(ServiceModelApi):
    resource_name = "care_rules"
    datamodel = CrmSQLAInterface(CareRule)
    writes = RULE_WRITES
    allow_browser_login = True
    list_columns = ["id"] + RULE_COLUMNS + ["covered_through", "version"]
    show_columns = list_columns
    add_columns = RULE_COLUMNS
    edit_columns = RULE_COLUMNS
    search_columns = ["code", "kind", "enabled", "owner_role"]


TASK_API_COLUMNS = ["id", "rule_id", "customer_id", "occurrence_key", "due_date", "assignee_id", "status",
                    "priority", "attempts", "outcome", "notes", "created_at", "completed_at", "version"]


class CareTaskApi(ServiceModelApi):
    """Read with the row rules; PUT {"outcome", "notes"} completes, {"assignee_id"} reassigns (managers)."""

    resource_name = "care_tasks"
    datamodel = CrmSQLAInterface(CareTask)
    writes = Writes(update=care.api_update)
    base_filters = CARE_TASK_ACCESS_FILTER
    base_order = ("due_date", "asc")
    allow_browser_login = True
    list_columns = TASK_API_COLUMNS
    show_columns = TASK_API_COLUMNS
    edit_columns = ["outcome", "notes", "assignee"]
    search_columns = ["status", "due_date", "priority", "occurrence_key"]
