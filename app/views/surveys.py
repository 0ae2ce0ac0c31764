"""Satisfaction surveys: the public answer page (no login, CSRF-protected form) and the `surveys` API.

The public page is a FAB `BaseView` without `@has_access`: anyone holding a link may answer once.
The form's CSRF token is checked by the app-wide `CSRFProtect`.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from app.extensions import db
from app.models.survey import Survey
from app.security.access import SURVEY_ACCESS_FILTER
from app.services import surveys
from app.services.errors import CrmError, Invalid
from app.views.base import ServiceModelApi
from app.views.datamodel import CrmSQLAInterface


class SurveyPublicView(BaseView):
    """/survey/<token>: a 1–5 score and a comment, answered once, without logging in."""

    route_base = "/survey"
    default_view = "answer"

    def _page(self, status: int, **context):  # noqa: ANN003, ANN202
        return self.render_template("crm/survey_answer.html", scores=surveys.SCORES, **context), status

    @expose("/<token>", methods=["GET", "POST"])
    def answer(self, token: str):  # noqa: ANN201
        try:
            survey = surveys.check_open(token)
        except CrmError as exc:
            db.session.rollback()
            return self._page(exc.status, closed=exc.text())
        if request.method == "GET":
            return self._page(200, survey=survey)
        form = {"score": request.form.get("score"), "comment": request.form.get("comment", "")}
        try:
            surveys.answer(token, form["score"], form["comment"], ip=request.remote_addr)
        except Invalid as exc:
            db.session.rollback()
            return self._page(422, survey=survey, errors=exc.errors, form=form)
        except CrmError as exc:
            db.session.rollback()
            return self._page(exc.status, closed=exc.text())
        return self._page(200, thanks=_("Thank you for your feedback!"))


SURVEY_COLUMNS = ["id", "subject_type", "subject_id", "customer_id", "created_at", "expires_at", "answered_at",
                  "score", "comment"]


class SurveyApi(ServiceModelApi):
    """Read-only: Managers see every survey, Agents those of the tickets they may see."""

    resource_name = "surveys"
    datamodel = CrmSQLAInterface(Survey)
    base_filters = SURVEY_ACCESS_FILTER
    base_order = ("id", "desc")
    allow_browser_login = True
    list_columns = SURVEY_COLUMNS
    show_columns = SURVEY_COLUMNS
    search_columns = ["subject_type", "subject_id", "customer_id", "score", "answered_at", "created_at"]
