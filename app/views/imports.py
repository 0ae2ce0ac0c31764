"""Import pages (issue 8.1): upload → column mapping → preview with per-row choices → run → result.

One view class per kind, so each kind has its own FAB permission (customers: Admin, Manager, Clerk;
leads: Sales and Managers; plans: Managers). Every step calls `services.importing.staging`.
Big files run in a background thread; the result page polls `progress` (static/crm/imports.js).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from flask import Response, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models.import_job import POLICIES
from app.security.current import current_actor
from app.services.errors import CrmError, Invalid, NotFound
from app.services.importing import mapping as mappings
from app.services.importing import reports, runner, staging
from app.services.masking import mask_id_number, mask_mobile

POLICY_LABELS = {"skip": _l("Skip"), "create": _l("Create new"), "update": _l("Update in place")}
MATCH_LABELS = {"id_number": _l("Resident ID number"), "mobile": _l("Mobile"), "name_birth": _l("Name + birth date"),
                "code": _l("Code")}
ACTION_LABELS = {"create": _l("Create"), "update": _l("Update"), "skip": _l("Skip"), "error": _l("Error")}
STATUS_LABELS = {"uploaded": _l("Waiting for confirmation"), "running": _l("Running"), "done": _l("Done"),
                 "failed": _l("Failed"), "dry_run": _l("Dry run")}
# Files with more rows than this run beside the request; the result page shows their progress.
BACKGROUND_ROWS = 2000


def _masked(value: str) -> str:
    """Sample cells on screen: anything shaped like a mobile or resident ID is masked (contract)."""
    if re.fullmatch(r"1\d{10}", value):
        return mask_mobile(value)
    if re.fullmatch(r"\d{17}[\dXx]", value):
        return mask_id_number(value)
    return value


def _background(app: Any, run_id: int, choices: dict[int, str], actor: Any) -> None:
    with app.app_context():
        try:
            staging.execute(run_id, choices, actor)
        except Exception as exc:  # noqa: BLE001 - the run record must say it failed, whatever happened
            db.session.rollback()
            from app.models.import_job import ImportRun

            run = db.session.get(ImportRun, run_id)
            if run is not None and run.status == "running":
                run.status, run.message = "failed", str(exc)[:500]
                db.session.commit()


class ImportView(BaseView):
    """Shared steps; subclasses set `kind`, `route_base`, `class_permission_name` and `title`."""

    kind = "customers"
    title: Any = ""
    default_view = "index"
    base_permissions = ["can_list", "can_add"]
    method_permission_name = {"index": "list", "result": "list", "progress": "list", "errors": "list",
                              "upload": "add", "mapping": "add", "preview": "add", "run": "add"}

    def _render(self, template: str, status: int = 200, **kw: Any) -> tuple[str, int]:
        return self.render_template(template, kind=self.kind, title=self.title, endpoint=self.__class__.__name__,
                                    policy_labels=POLICY_LABELS, match_labels=MATCH_LABELS,
                                    action_labels=ACTION_LABELS, status_labels=STATUS_LABELS, **kw), status

    def _run(self, pk: int) -> Any:
        return staging.get(pk, current_actor(), self.kind)

    def _not_found(self) -> tuple[str, int]:
        return self.render_template("crm/not_found.html"), 404

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        return self._render("crm/import_upload.html", runs=staging.recent(self.kind, current_actor()),
                            fields=runner.kind(self.kind).fields, errors={})

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):  # noqa: ANN201
        upload = request.files.get("file")
        try:
            run = staging.upload(self.kind, upload.filename if upload else None, upload.read() if upload else b"",
                                 current_actor())
        except Invalid as exc:
            db.session.rollback()
            return self._render("crm/import_upload.html", 422, runs=staging.recent(self.kind, current_actor()),
                                fields=runner.kind(self.kind).fields, errors=exc.errors)
        return redirect(url_for(f"{self.__class__.__name__}.mapping", pk=run.id))

    @expose("/<int:pk>/mapping", methods=["GET", "POST"])
    @has_access
    def mapping(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            run = self._run(pk)
            table = staging.table(run)
        except NotFound:
            return self._not_found()
        except Invalid as exc:
            flash(exc.text(), "warning")
            return redirect(url_for(f"{self.__class__.__name__}.result", pk=pk))
        k = runner.kind(self.kind)
        errors: dict[str, Any] = {}
        columns = json.loads(run.mapping or "{}")
        if request.method == "GET" and request.args.get("saved"):
            try:
                columns = mappings.load(self.kind, request.args["saved"])
            except NotFound:
                flash(_("No saved mapping named %(name)s.", name=request.args["saved"]), "warning")
        if request.method == "POST":
            columns = {h: request.form.get(f"col_{i}", "") for i, h in enumerate(table.header)}
            try:
                staging.configure(run, columns, request.form.get("policy"), request.form.getlist("match"),
                                  request.form.get("save_as"), actor)
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                return redirect(url_for(f"{self.__class__.__name__}.preview", pk=pk))
        samples = [[_masked(c) for c in cells] for _n, cells in table.rows[:3]]
        return self._render("crm/import_mapping.html", 422 if errors else 200, run=run, header=table.header,
                            samples=samples, columns=columns, fields=k.fields, errors=errors,
                            match_options=k.match_options, match=run.match_keys.split(","), policies=POLICIES,
                            saved=mappings.saved(self.kind))

    @expose("/<int:pk>/preview")
    @has_access
    def preview(self, pk: int):  # noqa: ANN201
        try:
            run = self._run(pk)
            report = staging.preview(run, current_actor())
        except NotFound:
            return self._not_found()
        except Invalid as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
            return redirect(url_for(f"{self.__class__.__name__}.mapping", pk=pk))
        shown = [r for r in report.rows if r.duplicate or r.action == "error"][:runner.PREVIEW_ROWS]
        return self._render("crm/import_preview.html", run=run, report=report, shown=shown,
                            fields=runner.kind(self.kind).fields, policies=POLICIES)

    @expose("/<int:pk>/run", methods=["POST"])
    @has_access
    def run(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            run = self._run(pk)
            choices = {int(key[7:]): value for key, value in request.form.items()
                       if key.startswith("choice_") and key[7:].isdigit() and value in POLICIES}
            staging.claim(run)
            if run.total > BACKGROUND_ROWS:
                threading.Thread(target=_background, args=(current_app._get_current_object(), run.id, choices, actor),
                                 daemon=True, name=f"import-{run.id}").start()
            else:
                staging.execute(run.id, choices, actor)
        except NotFound:
            return self._not_found()
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
        return redirect(url_for(f"{self.__class__.__name__}.result", pk=pk))

    @expose("/<int:pk>/")
    @has_access
    def result(self, pk: int):  # noqa: ANN201
        try:
            run = self._run(pk)
        except NotFound:
            return self._not_found()
        errors = runner.error_rows(run)
        return self._render("crm/import_result.html", run=run, errors=errors[:500], error_count=len(errors),
                            progress=staging.progress(run))

    @expose("/<int:pk>/progress")
    @has_access
    def progress(self, pk: int):  # noqa: ANN201
        try:
            return jsonify(staging.progress(self._run(pk)))
        except NotFound:
            return jsonify({"message": _("Not found.")}), 404

    @expose("/<int:pk>/errors.csv")
    @has_access
    def errors(self, pk: int):  # noqa: ANN201
        try:
            run = self._run(pk)
        except NotFound:
            return self._not_found()
        return Response(reports.error_csv(runner.error_rows(run)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="import-{run.id}-errors.csv"'})


class CustomerImportView(ImportView):
    route_base = "/imports/customers"
    class_permission_name = "CustomerImport"
    kind = "customers"
    title = _l("Import customers")


class LeadImportView(ImportView):
    route_base = "/imports/leads"
    class_permission_name = "LeadImport"
    kind = "leads"
    title = _l("Import leads (with update)")


class PlanImportView(ImportView):
    route_base = "/imports/plans"
    class_permission_name = "PlanImport"
    kind = "plans"
    title = _l("Import plans")
