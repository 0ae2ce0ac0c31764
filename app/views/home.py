"""Landing page: a clerk's starting point (search, shortcuts, a few counts)."""

from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose


class CrmIndexView(IndexView):
    index_template = "crm/index.html"

    @expose("/")
    def index(self):  # noqa: ANN201
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(url_for("AuthDBView.login"))
        self.update_redirect()  # as FAB's IndexView: a language switch here comes back here
        return self.render_template(self.index_template, appbuilder=self.appbuilder)
