"""Job administration (System menu): status, next and last run, run now, pause/resume, history."""

from __future__ import annotations

import threading

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.jobs import scheduler as sched
from app.security.current import current_actor
from app.services import jobs
from app.services.errors import NotFound


def _run_in_background(app, job_id: str) -> None:  # noqa: ANN001
    with app.app_context():
        jobs.execute(job_id, trigger="manual")


class JobsView(BaseView):
    route_base = "/jobs"
    default_view = "index"
    class_permission_name = "Jobs"
    method_permission_name = {"index": "list", "run": "run", "pause": "run", "resume": "run"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        selected = request.args.get("job") or None
        return self.render_template(
            "crm/jobs.html",
            statuses=jobs.status(sched.next_runs(current_app._get_current_object())),
            runs=jobs.history(selected),
            selected=selected,
        )

    @expose("/<job_id>/run", methods=["POST"])
    @has_access
    def run(self, job_id: str):  # noqa: ANN201
        if jobs.get(job_id) is None:
            return self.render_template("crm/not_found.html"), 404
        # Runs beside the request (a job may take minutes); its record appears in the history.
        threading.Thread(target=_run_in_background, args=(current_app._get_current_object(), job_id),
                         daemon=True, name=f"job-{job_id}").start()
        flash(_("Job %(job)s started; refresh to see its outcome.", job=job_id), "info")
        return redirect(url_for("JobsView.index"))

    @expose("/<job_id>/pause", methods=["POST"])
    @has_access
    def pause(self, job_id: str):  # noqa: ANN201
        return self._set_paused(job_id, True)

    @expose("/<job_id>/resume", methods=["POST"])
    @has_access
    def resume(self, job_id: str):  # noqa: ANN201
        return self._set_paused(job_id, False)

    def _set_paused(self, job_id: str, paused: bool):  # noqa: ANN202
        try:
            jobs.set_paused(job_id, paused, current_actor())
        except NotFound:
            return self.render_template("crm/not_found.html"), 404
        flash(_("Job %(job)s paused.", job=job_id) if paused else _("Job %(job)s resumed.", job=job_id), "success")
        return redirect(url_for("JobsView.index"))
