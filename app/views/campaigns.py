"""Campaign (营销活动) pages and the `campaigns` API: define with a live preview, launch, follow the
launch's progress, and the report (chart + CSV/XLSX export). Every rule is in app/services/campaigns.py."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.labels import PLAN_TYPE_CHOICES, SEGMENT_CHOICES, STATUS_CHOICES
from app.models.base import utcnow
from app.models.campaign import Campaign, CampaignContact
from app.security.current import current_actor
from app.services import audit, campaign_results, campaigns, exports
from app.services.campaign_targeting import TARGET_STATUSES
from app.services.care import business_date
from app.services.errors import CrmError, Invalid
from app.views.base import ServiceModelApi, Writes, crm_error_response, run_action
from app.views.datamodel import CrmSQLAInterface

CHANNEL_CHOICES = [("call", _l("Call tasks for the customers' owners")), ("sms", _l("SMS from a template")),
                   ("email", _l("Email from a template"))]
CAMPAIGN_STATUS_LABELS = {"draft": _l("Draft"), "launched": _l("Launched"), "running": _l("Running"),
                          "done": _l("Done"), "cancelled": _l("Cancelled")}
LAUNCH_STATUS_LABELS = {"pending": _l("Waiting for the launch job"), "running": _l("In progress"),
                        "done": _l("Completed"), "cancelled": _l("Cancelled")}
CHURN_BAND_CHOICES = [("low", _l("Low")), ("medium", _l("Medium")), ("high", _l("High"))]
CONVERSION_LABELS = {"order": _l("Order"), "plan_change": _l("Plan change"), "subscription": _l("New line")}
PAGE_SIZE = 50
INT_FILTERS = ("tenure_min_days", "tenure_max_days", "age_min", "age_max")


def today() -> Any:
    """The business day the pages work with (tests replace this to control the clock)."""
    return business_date(utcnow())


def now() -> Any:
    return utcnow()


def form_values(form: Any) -> dict[str, Any]:
    """The campaign form as the service's input: plain fields plus a `filters` dict."""
    data = {k: form.get(k, "") for k in ("name", "description", "start_date", "end_date", "channel", "template_code",
                                          "offer", "conversion_days")}
    filters: dict[str, Any] = {}
    for key in ("segments", "statuses"):
        if form.getlist(key):
            filters[key] = form.getlist(key)
    for key in ("cities", "plan_type", "churn_band", "arrears", *INT_FILTERS):
        value = (form.get(key) or "").strip()
        if value:
            filters[key] = value
    data["filters"] = filters
    return data


def _form_state(campaign: Campaign | None) -> dict[str, Any]:
    if campaign is None:
        day = today()
        return {"channel": "call", "conversion_days": 30, "start_date": day.isoformat(),
                "end_date": day.isoformat(), "filters": {}}
    state = {k: getattr(campaign, k) for k in campaigns.EDITABLE}
    state["filters"] = campaigns.filters_of(campaign)
    return state


class CampaignView(BaseView):
    """营销活动: list, define (with preview), show (progress + report), launch, cancel, export."""

    route_base = "/campaigns"
    default_view = "index"
    method_permission_name = {"index": "list", "show": "show", "new": "add", "edit": "edit", "launch": "change",
                              "cancel": "change", "attribute": "change", "export": "show"}

    def _form(self, campaign: Campaign | None, values: dict[str, Any], errors: dict[str, Any],
              preview: Any = None) -> Any:
        return self.render_template(
            "crm/campaign_form.html", campaign=campaign, values=values, errors=errors, preview=preview,
            channels=CHANNEL_CHOICES, segments=SEGMENT_CHOICES, plan_types=PLAN_TYPE_CHOICES,
            statuses=[c for c in STATUS_CHOICES if c[0] in TARGET_STATUSES], bands=CHURN_BAND_CHOICES,
            template_codes=campaigns.template_codes())

    def _save(self, campaign: Campaign | None) -> Any:
        data = form_values(request.form)
        values = {**data, "filters": data["filters"]}
        if request.form.get("action") == "preview":
            try:
                result = campaigns.preview(data["filters"], data["channel"] or "call", today(),
                                           campaign.id if campaign else None)
            except Invalid as exc:
                db.session.rollback()
                return self._form(campaign, values, exc.errors)
            return self._form(campaign, values, {}, result)
        try:
            if campaign is None:
                campaign = campaigns.create(data, current_actor())
            else:
                campaigns.update_campaign(campaign.id, data, current_actor(), version=request.form.get("version"))
        except Invalid as exc:
            db.session.rollback()
            return self._form(campaign, values, exc.errors)
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return self._form(campaign, values, {})
        flash(_("Saved."), "success")
        return redirect(url_for("CampaignView.show", pk=campaign.id))

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        total = db.session.execute(select(func.count()).select_from(Campaign)).scalar() or 0
        rows = list(db.session.execute(select(Campaign).order_by(Campaign.id.desc())
                                       .limit(PAGE_SIZE).offset(page * PAGE_SIZE)).scalars())
        contacted = dict(db.session.execute(
            select(CampaignContact.campaign_id, func.count())
            .where(CampaignContact.campaign_id.in_([c.id for c in rows])).group_by(CampaignContact.campaign_id)).all())
        return self.render_template("crm/campaign_list.html", rows=rows, contacted=contacted, total=total, page=page,
                                    page_size=PAGE_SIZE, status_labels=CAMPAIGN_STATUS_LABELS,
                                    channels=dict(CHANNEL_CHOICES))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):  # noqa: ANN201
        if request.method == "POST":
            return self._save(None)
        return self._form(None, _form_state(None), {})

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):  # noqa: ANN201
        campaign = db.session.get(Campaign, pk)
        if campaign is None:
            return self.render_template("crm/not_found.html"), 404
        if campaign.status != "draft":
            flash(_("Only a draft campaign can be changed."), "warning")
            return redirect(url_for("CampaignView.show", pk=pk))
        if request.method == "POST":
            return self._save(campaign)
        return self._form(campaign, _form_state(campaign), {})

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):  # noqa: ANN201
        campaign = db.session.get(Campaign, pk)
        if campaign is None:
            return self.render_template("crm/not_found.html"), 404
        preview = None
        if campaign.status == "draft":
            preview = campaigns.preview(campaigns.filters_of(campaign), campaign.channel, today(), campaign.id)
        rep = campaign_results.report(pk)
        days = [d.day.isoformat() for d in rep.by_day]
        series = [{"name": _("Contacted"), "type": "bar", "data": [d.contacted for d in rep.by_day]},
                  {"name": _("Converted"), "type": "line", "data": [d.converted for d in rep.by_day]}]
        if rep.responses_measured:
            series.insert(1, {"name": _("Responded"), "type": "line", "data": [d.responded for d in rep.by_day]})
        option = {"tooltip": {"trigger": "axis"}, "legend": {"data": [s["name"] for s in series]},
                  "xAxis": {"type": "category", "data": days, "name": _("Day of contact")},
                  "yAxis": {"type": "value", "minInterval": 1}, "series": series}
        return self.render_template(
            "crm/campaign_show.html", campaign=campaign, filters=campaigns.filters_of(campaign), preview=preview,
            launch=campaigns.launch_of(pk), report=rep, option=option, status_labels=CAMPAIGN_STATUS_LABELS,
            launch_labels=LAUNCH_STATUS_LABELS, channels=dict(CHANNEL_CHOICES), kinds=CONVERSION_LABELS,
            can_change=self.appbuilder.sm.has_access("can_change", "CampaignView"),
        )

    def _action(self, pk: int, fn: Any, done: str) -> Any:
        return run_action(self, fn, done, url_for("CampaignView.show", pk=pk))

    @expose("/<int:pk>/launch", methods=["POST"])
    @has_access
    def launch(self, pk: int):  # noqa: ANN201
        return self._action(pk, lambda: campaigns.launch(pk, current_actor(), today()),
                            _("Launched: the launch job contacts the target in batches from the start date."))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk: int):  # noqa: ANN201
        return self._action(pk, lambda: campaigns.cancel(pk, current_actor()), _("Campaign cancelled."))

    @expose("/<int:pk>/attribute", methods=["POST"])
    @has_access
    def attribute(self, pk: int):  # noqa: ANN201
        if db.session.get(Campaign, pk) is None:
            return self.render_template("crm/not_found.html"), 404
        return self._action(pk, lambda: campaign_results.attribute(now(), pk), _("Responses and conversions updated."))

    @expose("/<int:pk>/export")
    @has_access
    def export(self, pk: int):  # noqa: ANN201
        if db.session.get(Campaign, pk) is None:
            return self.render_template("crm/not_found.html"), 404
        try:
            fmt = exports.check_format(request.args.get("format"))
        except Invalid:
            abort(400)
        rep = campaign_results.report(pk)
        audit.record(current_actor(), "export", "campaign", pk, {"format": fmt, "rows": len(rep.by_day)})
        db.session.commit()
        header = [_("Day of contact"), _("Contacted"), _("Responded"), _("Converted"), _("Response rate (%)"),
                  _("Conversion rate (%)")]
        return exports.export_response(fmt, f"campaign-{pk}-report", header, campaign_results.report_rows(rep),
                                       sheet="campaign")


API_COLUMNS = ["id", "name", "description", "status", "channel", "template_code", "offer", "filters", "start_date",
               "end_date", "conversion_days", "launched_at", "attributed_at", "created_at", "version"]


class CampaignApi(ServiceModelApi):
    """`campaigns`: CRUD of drafts through the service; launch, preview and report endpoints."""

    resource_name = "campaigns"
    datamodel = CrmSQLAInterface(Campaign)
    writes = Writes(create=campaigns.create, update=campaigns.update_campaign, delete=campaigns.delete)
    allow_browser_login = True
    base_order = ("id", "desc")
    list_columns = API_COLUMNS
    show_columns = API_COLUMNS
    add_columns = list(campaigns.EDITABLE)
    edit_columns = list(campaigns.EDITABLE)
    search_columns = ["name", "status", "channel", "start_date", "end_date"]

    @api_expose("/<int:pk>/launch", methods=["POST"])
    @protect()
    @safe
    @permission_name("change")
    def launch(self, pk: int):  # noqa: ANN201
        try:
            row = campaigns.launch(pk, current_actor(), today())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(202, id=pk, status="launched", launch_id=row.id)

    @api_expose("/<int:pk>/preview", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def preview(self, pk: int):  # noqa: ANN201
        try:
            campaign = campaigns.get(pk)
            result = campaigns.preview(campaigns.filters_of(campaign), campaign.channel, today(), campaign.id)
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, count=result.count, sample=result.sample)

    @api_expose("/<int:pk>/report", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def report(self, pk: int):  # noqa: ANN201
        try:
            rep = campaign_results.report(pk)
            launch = campaigns.launch_of(pk)
        except CrmError as exc:
            return crm_error_response(self, exc)
        progress = None if launch is None else {"status": launch.status, "total": launch.total,
                                                "processed": launch.processed, "batches": launch.batches,
                                                "percent": launch.percent}
        return self.response(200, contacted=rep.contacted, responded=rep.responded if rep.responses_measured else None,
                             converted=rep.converted, response_rate=rep.response_rate,
                             conversion_rate=rep.conversion_rate, conversions_by_kind=rep.by_kind, launch=progress,
                             by_day=[{"day": d.day.isoformat(), "contacted": d.contacted, "responded": d.responded,
                                      "converted": d.converted} for d in rep.by_day])
