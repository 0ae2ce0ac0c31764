"""Saved views and bulk actions on any list page (issue 8.2, 8.4).

`ListToolsMixin` is a base of every `ServiceModelView`. Its routes live under the list's own
route base (`/customers/bulk/`, `/customers/views/save`, …), so FAB checks the list's own
permissions: bulk actions need `can_change` on the list (what roles.py grants with write
access), saved views `can_list`. What a bulk job
acts on is the list's current filter (FAB `_flt_` arguments), turned into
[column, filter index, values] for `services.bulk`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.security.current import current_actor
from app.services import bulk, saved_views
from app.services.errors import CrmError, Forbidden, Invalid

FILTER_ARG = re.compile(r"^_flt_(\d)_(.+)$")


def filter_triples(view: Any, args: MultiDict) -> list[list[Any]]:
    """The list's filters in `args` as [column, filter index, values], exactly those FAB's list
    applies (`get_filter_args`: a column outside the view's search columns is ignored)."""
    allowed = view._filters.get_search_filters()
    out = []
    for arg in sorted(set(args)):
        match = FILTER_ARG.match(arg)
        if match and match.group(2) in allowed:
            out.append([match.group(2), int(match.group(1)), args.getlist(arg)])
    return out


def build_filters(view: Any, args: MultiDict) -> Any:
    """A fresh FAB `Filters` of the view from stored list arguments (not the request's)."""
    flts = view.datamodel.get_filters(view.search_columns)
    for column, index, values in filter_triples(view, args):
        if index < len(flts._all_filters.get(column, [])):
            flts.add_filter_index(column, index, values)
    return flts


def list_count(view: Any, args: MultiDict) -> int:
    """The count the list page itself shows for these arguments: same interface, filters and
    `base_filters` (row rules), and the same cap on large counts."""
    joined = build_filters(view, args).get_joined_filters(view._base_filters)
    return view.datamodel.query_count(view.datamodel.session.query(view.datamodel.obj), joined)


def _list_args(args: MultiDict) -> list[tuple[str, str]]:
    return [(k, v) for k in args for v in args.getlist(k) if not k.startswith("csrf")]


class ListToolsMixin:
    """Adds saved views and bulk actions to a ModelView."""

    # --- column chooser: `cols_<View>=a,b` shows a subset of the list's columns, in that order ------

    def chosen_columns(self) -> list[str] | None:
        raw = ",".join(request.args.getlist(f"cols_{self.__class__.__name__}"))  # one list or checkboxes
        wanted = [c for c in raw.split(",") if c in (self.list_columns or [])]
        return wanted or None

    def _get_list_widget(self, *args: Any, **kwargs: Any) -> Any:
        widgets = super()._get_list_widget(*args, **kwargs)
        chosen = self.chosen_columns()
        if chosen and widgets.get("list") is not None:
            # The row values hold every list column; the widget renders only these.
            widgets["list"].template_args["include_columns"] = chosen
        return widgets

    # --- bulk actions ----------------------------------------------------------------------------

    def _bulk_target(self) -> Any:
        target = bulk.target_for_model(self.datamodel.obj)
        if target is None:
            abort(404)
        return target

    def _list_url(self, args: list[tuple[str, str]] | None = None) -> str:
        base = url_for(f"{self.__class__.__name__}.list")
        return f"{base}?{urlencode(args)}" if args else base

    def _bulk_page(self, target: Any, filters: list, status: int = 200, **extra: Any) -> Any:
        actor = current_actor()
        preview = bulk.preview(target.name, filters, actor)
        actions = [(a, bulk.may_run(target.name, a.key, actor)) for a in target.actions.values()]
        return self.render_template(
            "crm/bulk_form.html", title=_("Bulk action"), target=target, preview=preview, actions=actions,
            list_url=self._list_url(_list_args(request.args)), filters=filters, view_name=self.__class__.__name__,
            choices=_choices(target), inline_limit=bulk.inline_limit(),
            recent=[(job, bulk.describe(job)) for job in bulk.recent(actor, target.name, limit=5)], **extra), status

    @expose("/bulk/", methods=["GET", "POST"])
    @has_access
    @permission_name("change")
    def bulk_form(self):  # noqa: ANN201
        target = self._bulk_target()
        filters = filter_triples(self, request.args)
        if request.method == "GET":
            return self._bulk_page(target, filters)
        actor = current_actor()
        action_key = request.form.get("action", "")
        params = {k: v for k, v in request.form.items() if k not in ("action", "confirm", "csrf_token")}
        try:
            if request.form.get("confirm") != "1":
                action = target.actions.get(action_key)
                if action is None:
                    raise Invalid({"action": _("Choose an action.")})
                if action.managers_only and not bulk.may_run(target.name, action_key, actor):
                    raise Forbidden(_("Only a manager can reassign records."))
                cleaned = action.clean(params, actor)
                return self._bulk_page(target, filters, confirm={"action": action, "params": params,
                                                                 "summary": action.describe(cleaned)})
            job = bulk.start(target.name, action_key, params, filters, actor)
        except Invalid as exc:
            db.session.rollback()
            return self._bulk_page(target, filters, status=422, errors=exc.errors, chosen=action_key, params=params)
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return self._bulk_page(target, filters, status=exc.status)
        if job.total <= bulk.inline_limit():
            bulk.run(job.id, actor)
        else:
            from app.jobs.bulk_run import start_background

            start_background(job.id)
        return redirect(url_for(f"{self.__class__.__name__}.bulk_job", job_id=job.id))

    def _job(self, job_id: int) -> Any:
        target = self._bulk_target()
        try:
            job = bulk.get(job_id, current_actor())
        except CrmError:
            abort(404)
        if job.target != target.name:
            abort(404)
        return job

    @expose("/bulk/job/<int:job_id>")
    @has_access
    @permission_name("list")
    def bulk_job(self, job_id: int):  # noqa: ANN201
        job = self._job(job_id)
        return self.render_template(
            "crm/bulk_job.html", title=_("Bulk action"), job=job, progress=bulk.progress(job),
            summary=bulk.describe(job), report=bulk.report_rows(job), list_url=self._list_url(),
            status_url=url_for(f"{self.__class__.__name__}.bulk_job_status", job_id=job.id))

    @expose("/bulk/job/<int:job_id>/status")
    @has_access
    @permission_name("list")
    def bulk_job_status(self, job_id: int):  # noqa: ANN201
        return jsonify(bulk.progress(self._job(job_id)))

    # --- saved views -----------------------------------------------------------------------------

    @expose("/views/save", methods=["POST"])
    @has_access
    @permission_name("list")
    def views_save(self):  # noqa: ANN201
        pairs = _decode_pairs(request.form.get("query", ""))
        try:
            view = saved_views.save(current_actor(), self.__class__.__name__, request.form.get("name"), pairs,
                                    shared=request.form.get("shared") in ("1", "y", "on"))
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return redirect(self._list_url(pairs))
        flash(_("View \"%(name)s\" saved.", name=view.name), "success")
        return redirect(self._list_url(saved_views.args_of(view)))

    def _saved(self, view_id: int) -> Any:
        try:
            view = saved_views.get(view_id, current_actor())
        except CrmError:
            abort(404)
        if view.view_name != self.__class__.__name__:
            abort(404)
        return view

    @expose("/views/<int:view_id>/")
    @has_access
    @permission_name("list")
    def views_apply(self, view_id: int):  # noqa: ANN201
        return redirect(self._list_url(saved_views.args_of(self._saved(view_id))))

    def _change(self, view_id: int, fn: Any, done: str) -> Any:
        view = self._saved(view_id)
        try:
            fn(view.id, current_actor())
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return redirect(self._list_url(saved_views.args_of(view)))
        flash(done, "success")
        if request.form.get("next") == "home":
            return redirect(self.appbuilder.get_url_for_index)
        return redirect(self._list_url(saved_views.args_of(view)) if fn is not saved_views.delete
                        else self._list_url())

    @expose("/views/<int:view_id>/pin", methods=["POST"])
    @has_access
    @permission_name("list")
    def views_pin(self, view_id: int):  # noqa: ANN201
        on = request.form.get("on", "1") == "1"
        return self._change(view_id, lambda pk, actor: saved_views.set_pinned(pk, actor, on),
                            _("Pinned to the home page.") if on else _("Removed from the home page."))

    @expose("/views/<int:view_id>/share", methods=["POST"])
    @has_access
    @permission_name("list")
    def views_share(self, view_id: int):  # noqa: ANN201
        on = request.form.get("on", "1") == "1"
        return self._change(view_id, lambda pk, actor: saved_views.set_shared(pk, actor, on),
                            _("Shared with your team.") if on else _("No longer shared."))

    @expose("/views/<int:view_id>/delete", methods=["POST"])
    @has_access
    @permission_name("list")
    def views_delete(self, view_id: int):  # noqa: ANN201
        return self._change(view_id, saved_views.delete, _("View deleted."))


def _decode_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query.lstrip("?"), keep_blank_values=True)


def _choices(target: Any) -> dict[str, list[tuple[str, str]]]:
    """Options of the action inputs (users, statuses, segments, …) for the bulk page."""
    from app.labels import SEGMENT_CHOICES, STATUS_CHOICES
    from app.models.user import CrmUser

    users = [(str(u.id), u.username) for u in db.session.query(CrmUser).filter(CrmUser.active.is_(True))
             .order_by(CrmUser.username)]
    out = {"owner_id": users, "assignee_id": users,
           "status": [(k, str(v)) for k, v in STATUS_CHOICES],
           "segment": [(k, str(v)) for k, v in SEGMENT_CHOICES],
           "assign_to": [("owner", _("The customer's owner")), ("me", _("Me"))]}
    if target.name == "leads":
        from app.services.sales import LEAD_STATUS_LABELS

        out["lead_status"] = [(k, str(v)) for k, v in LEAD_STATUS_LABELS.items() if k != "converted"]
    if target.name == "customers":
        from app.services import tags

        out["tag"] = [(n, n) for n in tags.all_names()]
    return out
