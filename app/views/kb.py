"""Knowledge base (知识库) pages and API: the search page, the article page with feedback, version
history/diff/restore, "article from this resolved ticket", FAB article and category views, and the
`kb_articles` REST resource with `/search`, `/<id>/feedback` and `/<id>/versions`.

Agents read published articles (and rate them); Managers and Admins write, publish and restore.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField, widgets
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.models.kb import CATEGORY_KINDS, KbArticle, KbCategory
from app.security.access import KB_ARTICLE_ACCESS_FILTER, is_kb_writer
from app.security.current import current_actor
from app.services import kb
from app.services.errors import CrmError, Invalid
from app.timefmt import localtime
from app.views.base import ServiceModelApi, ServiceModelView, Writes, crm_error_response
from app.views.datamodel import CrmSQLAInterface

ARTICLE_LABELS = {
    "id": _l("No."), "title": _l("Title"), "body": _l("Content"), "category": _l("Category"),
    "category_label": _l("Category"), "tags": _l("Tags"), "status": _l("Status"), "status_label": _l("Status"),
    "author": _l("Author"), "updated_by": _l("Last edited by"), "revision": _l("Revision"),
    "helpful_count": _l("Helpful"), "not_helpful_count": _l("Not helpful"), "published_at": _l("Published at"),
    "created_at": _l("Created at"), "updated_at": _l("Updated at"), "source_ticket_id": _l("From ticket"),
}
ARTICLE_FORM = ["title", "category", "tags", "body", "status"]
ARTICLE_WRITES = Writes(create=kb.create, update=kb.update)
KIND_CHOICES = [("business", _l("Business type")), ("problem", _l("Problem type"))]


class _ArticleTextArea(widgets.TextArea):
    """A full-width text area tall enough for an article (FAB's BS3 widget fixes 3 rows)."""

    def __call__(self, field, **kwargs):  # noqa: ANN001, ANN003, ANN204 - WTForms' signature
        kwargs.setdefault("class", "form-control")
        kwargs.setdefault("rows", 16)
        return super().__call__(field, **kwargs)


def _search_limit(value: Any, default: int = 20) -> int:
    try:
        return max(1, min(int(value), 100))
    except (TypeError, ValueError):
        return default


class KbView(BaseView):
    """The knowledge base for everyone who serves customers: search, read, rate; writers manage."""

    route_base = "/kb"
    default_view = "index"
    method_permission_name = {
        "index": "list", "article": "show", "feedback": "show", "history": "show", "version": "show",
        "transition": "edit", "restore": "edit", "from_ticket": "edit",
    }

    def _not_found(self):  # noqa: ANN202
        return self.render_template("crm/not_found.html"), 404

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        q = (request.args.get("q") or "").strip()
        category_id = request.args.get("category_id") or ""
        results, error = [], None
        if q:
            try:
                results = kb.search(q, actor, category_id=category_id or None, limit=50)
            except Invalid as exc:
                db.session.rollback()
                error = exc.text()
        recent = [] if q else kb.recent(actor, category_id=category_id or None)
        return self.render_template(
            "crm/kb_search.html", q=q, category_id=category_id, categories=kb.category_choices(),
            results=results, recent=recent, error=error, writer=is_kb_writer(actor),
        )

    @expose("/article/<int:pk>")
    @has_access
    def article(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            item = kb.get(pk, actor)
        except CrmError:
            return self._not_found()
        writer = is_kb_writer(actor)
        mine = kb.my_feedback(item.id, actor)
        return self.render_template(
            "crm/kb_article.html", a=item, writer=writer, mine=mine,
            moves=[(s, kb.status_label(s)) for s in kb.TRANSITIONS.get(item.status, ())] if writer else [],
            feedback=kb.recent_feedback(item.id, actor) if writer else [],
        )

    @expose("/article/<int:pk>/feedback", methods=["POST"])
    @has_access
    def feedback(self, pk: int):  # noqa: ANN201
        try:
            kb.feedback(pk, request.form.get("helpful"), request.form.get("comment"), current_actor())
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self._not_found()
            flash(exc.text(), "danger")
        else:
            flash(_("Thank you for your feedback."), "success")
        return redirect(url_for("KbView.article", pk=pk))

    @expose("/article/<int:pk>/status", methods=["POST"])
    @has_access
    def transition(self, pk: int):  # noqa: ANN201
        try:
            item = kb.transition(pk, request.form.get("status") or "", current_actor())
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self._not_found()
            flash(exc.text(), "danger")
        else:
            flash(_("The article is now: %(status)s.", status=item.status_label), "success")
        return redirect(url_for("KbView.article", pk=pk))

    @expose("/article/<int:pk>/history")
    @has_access
    def history(self, pk: int):  # noqa: ANN201
        actor = current_actor()
        try:
            item = kb.get(pk, actor)
            rows = kb.versions(pk, actor)
        except CrmError:
            return self._not_found()
        return self.render_template("crm/kb_history.html", a=item, rows=rows, writer=is_kb_writer(actor),
                                    changes=kb.CHANGE_LABELS, status_label=kb.status_label)

    @expose("/article/<int:pk>/history/<int:revision>")
    @has_access
    def version(self, pk: int, revision: int):  # noqa: ANN201
        actor = current_actor()
        against = request.args.get("against")
        try:
            item = kb.get(pk, actor)
            snap = kb.get_version(pk, revision, actor)
            other = int(against) if against and against.isdigit() else None
            lines = kb.diff(pk, revision, other, actor) if other is None else kb.diff(pk, other, revision, actor)
        except CrmError:
            return self._not_found()
        names = {c.id: c.path_label() for c in kb.categories()}
        return self.render_template("crm/kb_version.html", a=item, v=snap, lines=lines, against=other,
                                    category=names.get(snap.category_id, ""), writer=is_kb_writer(actor),
                                    status_label=kb.status_label)

    @expose("/article/<int:pk>/restore/<int:revision>", methods=["POST"])
    @has_access
    def restore(self, pk: int, revision: int):  # noqa: ANN201
        try:
            item = kb.restore(pk, revision, current_actor())
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self._not_found()
            flash(exc.text(), "danger")
            return redirect(url_for("KbView.history", pk=pk))
        flash(_("Revision %(old)d restored as revision %(new)d.", old=revision, new=item.revision), "success")
        return redirect(url_for("KbView.article", pk=pk))

    @expose("/from-ticket/<int:ticket_id>", methods=["GET", "POST"])
    @has_access
    def from_ticket(self, ticket_id: int):  # noqa: ANN201
        actor = current_actor()
        try:
            prefill = kb.ticket_prefill(ticket_id, actor)
        except CrmError as exc:
            db.session.rollback()
            if exc.status == 404:
                return self._not_found()
            flash(exc.text(), "danger")
            return redirect(request.referrer or url_for("KbView.index"))
        values, errors = dict(prefill), {}
        if request.method == "POST":
            values.update({k: request.form.get(k, "") for k in ("title", "body", "category_id", "tags")})
            try:
                item = kb.create_from_ticket(ticket_id, values, actor)
            except Invalid as exc:
                db.session.rollback()
                errors = exc.errors
            except CrmError as exc:
                db.session.rollback()
                flash(exc.text(), "danger")
            else:
                flash(_("Draft article created from ticket %(no)s.", no=prefill["ticket_no"]), "success")
                return redirect(url_for("KbView.article", pk=item.id))
        return self.render_template("crm/kb_from_ticket.html", values=values, errors=errors,
                                    ticket_id=ticket_id, ticket_no=prefill["ticket_no"],
                                    categories=kb.category_choices())


class KbArticleModelView(ServiceModelView):
    """Article list and forms (writers add and edit; the read page is KbView.article)."""

    datamodel = CrmSQLAInterface(KbArticle)
    route_base = "/kb/articles"
    writes = ARTICLE_WRITES
    base_filters = KB_ARTICLE_ACCESS_FILTER
    base_order = ("updated_at", "desc")
    list_title = _l("Knowledge base articles")
    show_title = _l("Article")
    add_title = _l("New article")
    edit_title = _l("Edit article")
    label_columns = ARTICLE_LABELS
    list_columns = ["id", "title", "category_label", "tags", "status_label", "revision", "helpful_count",
                    "not_helpful_count", "author", "updated_at"]
    order_columns = ["id", "title", "revision", "helpful_count", "not_helpful_count", "updated_at"]
    search_columns = ["title", "status", "category", "tags", "author", "updated_at"]
    show_columns = ["id", "title", "category_label", "tags", "status_label", "body", "author", "updated_by",
                    "revision", "helpful_count", "not_helpful_count", "published_at", "created_at",
                    "updated_at", "source_ticket_id"]
    add_columns = ARTICLE_FORM
    edit_columns = ARTICLE_FORM + ["version"]
    description_columns = {
        "tags": _l("Separate tags with commas."),
        "status": _l("Only published articles are found by search and suggested on tickets."),
    }
    add_form_extra_fields = {
        "title": StringField(_l("Title"), validators=[InputRequired()], widget=BS3TextFieldWidget()),
        "tags": StringField(_l("Tags"), validators=[Optional()], widget=BS3TextFieldWidget()),
        "body": TextAreaField(_l("Content"), validators=[InputRequired()], widget=_ArticleTextArea()),
        "status": SelectField(_l("Status"), choices=kb.STATUS_CHOICES, default="draft",
                              render_kw={"class": "form-control"}),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {"updated_at": localtime, "tags": lambda v: v or ""}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):  # noqa: ANN001, ANN201
        # The article page (with history and feedback) is the article's detail page.
        return redirect(url_for("KbView.article", pk=pk))

    def post_add_redirect(self):  # noqa: ANN201
        item = getattr(self, "_last_item", None)
        if item is not None:
            return redirect(url_for("KbView.article", pk=item.id))
        return super().post_add_redirect()


class KbCategoryModelView(ServiceModelView):
    """The category tree (business type → problem type)."""

    datamodel = CrmSQLAInterface(KbCategory)
    route_base = "/kb/categories"
    writes = Writes(create=kb.create_category, update=kb.update_category, delete=kb.delete_category)
    base_order = ("sort_order", "asc")
    list_title = _l("Knowledge base categories")
    label_columns = {"code": _l("Code"), "name": _l("Category name"), "kind": _l("Kind"),
                     "parent": _l("Parent category"), "sort_order": _l("Sort order")}
    list_columns = ["code", "name", "kind", "parent", "sort_order"]
    show_columns = list_columns
    search_columns = ["code", "name", "kind", "parent"]
    add_columns = ["code", "name", "kind", "parent", "sort_order"]
    edit_columns = add_columns + ["version"]
    add_form_extra_fields = {
        "code": StringField(_l("Code"), validators=[InputRequired()], widget=BS3TextFieldWidget()),
        "kind": SelectField(_l("Kind"), choices=KIND_CHOICES, validators=[InputRequired()]),
    }
    edit_form_extra_fields = {**ServiceModelView.edit_form_extra_fields, **add_form_extra_fields}
    formatters_columns = {
        "name": lambda v: _(v) if v else "",
        "kind": lambda v: str(dict(KIND_CHOICES).get(v, v)) if v in CATEGORY_KINDS else v,
    }


ARTICLE_API_LIST = ["id", "title", "category_id", "tags", "status", "author_id", "revision", "helpful_count",
                    "not_helpful_count", "published_at", "created_at", "updated_at", "source_ticket_id", "version"]


class KbArticleApi(ServiceModelApi):
    """`kb_articles`: read with the row rules (drafts for writers only); writers POST/PUT (status
    moves are checked); `GET /search?q=宽带`, `POST /<id>/feedback`, `GET /<id>/versions`."""

    resource_name = "kb_articles"
    datamodel = CrmSQLAInterface(KbArticle)
    writes = ARTICLE_WRITES
    base_filters = KB_ARTICLE_ACCESS_FILTER
    base_order = ("updated_at", "desc")
    allow_browser_login = True
    list_columns = ARTICLE_API_LIST
    show_columns = ARTICLE_API_LIST[:2] + ["body"] + ARTICLE_API_LIST[2:]
    add_columns = ARTICLE_FORM
    edit_columns = ARTICLE_FORM
    order_columns = ["id", "title", "updated_at", "helpful_count", "revision"]
    search_columns = ["title", "status", "category", "tags", "updated_at"]
    openapi_spec_methods = {
        "search": {"get": {"description": "Full-text search of published articles (Chinese and Latin)."}},
        "feedback": {"post": {"description": "Was this article helpful? {\"helpful\": true, \"comment\": \"…\"}"}},
        "versions": {"get": {"description": "The article's revisions, newest first."}},
        "restore": {"post": {"description": "Restore an old revision's content as a new revision (writers)."}},
    }

    @expose("/search", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def search(self):  # noqa: ANN201
        """Search published articles.
        ---
        get:
          parameters:
          - in: query
            name: q
            required: true
            schema: {type: string}
          - in: query
            name: category_id
            schema: {type: integer}
          - in: query
            name: limit
            schema: {type: integer}
          responses:
            200: {description: Matching articles, best first}
            422: {description: Missing or invalid query}
        """
        try:
            results = kb.search(request.args.get("q"), current_actor(),
                                category_id=request.args.get("category_id") or None,
                                limit=_search_limit(request.args.get("limit")))
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, count=len(results), result=[
            {"id": r.article.id, "title": r.article.title, "category_id": r.article.category_id,
             "category": r.article.category_label, "tags": r.article.tag_list, "score": r.score,
             "snippet": "".join(r.snippet), "helpful_count": r.article.helpful_count,
             "not_helpful_count": r.article.not_helpful_count, "updated_at": r.article.updated_at.isoformat()}
            for r in results
        ])

    @expose("/<int:pk>/feedback", methods=["POST"])
    @protect()
    @safe
    @permission_name("get")
    def feedback(self, pk: int):  # noqa: ANN201
        """Rate an article (any reader; one vote per person, a new vote replaces the old).
        ---
        post:
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200: {description: The article's counts}
            404: {description: Unknown or unpublished article}
            422: {description: Invalid vote}
        """
        body = self._json_body()
        if body is None:
            return self.response_400(message=_("Request body must be a JSON object."))
        try:
            item = kb.feedback(pk, body.get("helpful"), body.get("comment"), current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, id=item.id, helpful_count=item.helpful_count,
                             not_helpful_count=item.not_helpful_count)

    @expose("/<int:pk>/versions", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def versions(self, pk: int):  # noqa: ANN201
        """The article's revisions, newest first.
        ---
        get:
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200: {description: Revisions}
            404: {description: Unknown article}
        """
        try:
            rows = kb.versions(pk, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, count=len(rows), result=[
            {"revision": v.revision, "title": v.title, "body": v.body, "category_id": v.category_id,
             "tags": v.tags, "status": v.status, "change": v.change, "note": v.note, "editor_id": v.editor_id,
             "created_at": v.created_at.isoformat()} for v in rows
        ])

    @expose("/<int:pk>/versions/<int:revision>/restore", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def restore(self, pk: int, revision: int):  # noqa: ANN201
        """Restore an old revision's title, body, category and tags as a new revision.
        ---
        post:
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: path
            name: revision
            required: true
            schema: {type: integer}
          responses:
            200: {description: The restored article}
            404: {description: Unknown article or revision}
        """
        try:
            item = kb.restore(pk, revision, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self._render(200, item)
