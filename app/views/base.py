"""Base classes that route FAB's generated pages and REST APIs through our services.

FAB's stock add/edit/delete write the model directly and its API calls `pre_*` hooks outside any
`try` (a rule raised there becomes a 500). Here every write goes to a service, and every
`CrmError` is mapped once: field errors onto the form (or a 422 JSON naming fields), other errors
to a flash (or their own 4xx status). The user's input is kept on the form when a save fails.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import prison
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from app.errors import is_bad_value
from app.extensions import db
from app.security.current import current_actor
from app.services.errors import Conflict, CrmError, Invalid
from app.views.list_export import ExportableListMixin
from app.views.list_tools import ListToolsMixin
from app.views.schemas import CrmModel2SchemaConverter, fix_api_spec
from app.views.widgets import CrmListWidget, CrmSearchWidget

log = logging.getLogger(__name__)


def run_action(view: Any, call: Callable[[], Any], done: str, back: str) -> Any:
    """A hand-written page's button (launch, cancel, retry…): the service call, then back to `back`.

    Success is flashed as `done`; a domain error rolls its transaction back and is flashed, except
    "not found", which gets the not-found page (404) like every other missing record."""
    try:
        call()
    except CrmError as exc:
        db.session.rollback()
        if exc.status == 404:
            return view.render_template("crm/not_found.html"), 404
        flash(exc.text(), "danger")
    else:
        flash(done, "success")
    return redirect(back)


@dataclass(frozen=True)
class Writes:
    """The service calls behind a resource's writes; a missing one means the action is not offered."""

    create: Callable[[dict[str, Any], Any], Any] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[[int, Any], None] | None = None


def form_data(form: Any, fields: list[str]) -> dict[str, Any]:
    """Plain values from a WTForms form; related objects become their ids (`owner` → `owner_id`)."""
    out: dict[str, Any] = {}
    for name in fields:
        if name not in form:
            continue
        value = form[name].data
        if hasattr(value, "id") and hasattr(value, "__table__"):
            out[f"{name}_id"] = value.id
        elif value is None and name in RELATION_FIELDS:
            out[f"{name}_id"] = None
        else:
            out[name] = value
    return out


# Relationship fields that forms show as selects and services take as `<name>_id`.
RELATION_FIELDS = {"owner", "department", "plan", "customer", "bill", "vas", "subscription"}


def _field_name(name: str) -> str:
    return name[:-3] if name.endswith("_id") and name[:-3] in RELATION_FIELDS else name


def _without(perms: Any, writes: Writes, create: str, update: str, delete: str) -> list[str]:
    missing = {create: writes.create, update: writes.update, delete: writes.delete}
    return [p for p in (perms or []) if not (p in missing and missing[p] is None)]


def put_errors_on_form(form: Any, exc: Invalid) -> None:
    # A duplicate names the existing customer; offer a link to it (escaped: names are user data).
    for customer_id in sorted(set(exc.related.values())):
        link = Markup('<a href="{}" class="crm-existing-customer">{}</a>').format(
            url_for("Customer360View.show", pk=customer_id), _("Open existing customer #%(id)d", id=customer_id))
        flash(link, "warning")
    for field, messages in exc.errors.items():
        target = _field_name(field)
        if target in form:
            form[target].errors = list(form[target].errors or []) + messages
        else:
            for message in messages:
                flash(message, "danger")


class ServiceModelView(ExportableListMixin, ListToolsMixin, ModelView):
    """A FAB ModelView whose add/edit/delete call `writes` and render domain errors on the form."""

    list_template = "crm/list.html"
    list_widget = CrmListWidget
    search_widget = CrmSearchWidget
    writes: Writes = Writes()
    edit_form_extra_fields = {"version": HiddenField()}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Only offer what a service implements, whatever a role grants.
        self.base_permissions = _without(self.base_permissions, self.writes, "can_add", "can_edit", "can_delete")
        if hasattr(self.datamodel, "eager_load_for_list"):
            self.datamodel.eager_load_for_list(list(self.list_columns or []))

    def version_of(self, item: Any) -> Any:
        """The optimistic-lock token the edit form carries; a view whose table has no `version`
        column names its own (e.g. a digest of the edited fields, `services.teams`)."""
        return getattr(item, "version", "")

    def _add(self):  # noqa: ANN202 - FAB's signature
        if self.writes.create is None:
            abort(405)
        form = self.add_form.refresh()
        if request.method == "POST" and form.validate():
            try:
                item = self.writes.create(form_data(form, self.add_columns), current_actor())
            except Invalid as exc:
                db.session.rollback()
                put_errors_on_form(form, exc)
            except CrmError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
            else:
                flash(_("Saved."), "success")
                self._last_item = item
                return None
        return self._get_add_widget(form=form, exclude_cols=[])

    def _edit(self, pk):  # noqa: ANN001, ANN202 - FAB's signature
        if self.writes.update is None:
            abort(405)
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            form._id = self.datamodel.get_pk_value(item)  # typed: FAB's Unique validator compares it
            if form.validate():
                fields = [c for c in self.edit_columns if c != "version"]
                try:
                    self.writes.update(int(pk), form_data(form, fields), current_actor(),
                                       version=form.version.data or None)
                except (Conflict, StaleDataError) as exc:  # StaleDataError: lost the race at commit
                    db.session.rollback()
                    # Keep what the user typed; show what the other person saved; the next save
                    # is a deliberate overwrite, so it carries the current version.
                    fresh = self.datamodel.get(pk, self._base_filters)
                    form.version.data = self.version_of(fresh) if fresh is not None else ""
                    current = getattr(exc, "current", {})
                    details = "; ".join(f"{self.label_columns.get(k, k)}: {v}" for k, v in current.items())
                    flash(_("Someone else saved this record while you were editing. Their values: %(details)s. "
                            "Your changes are still on the form: check them and save again to overwrite.",
                            details=details), "warning")
                except Invalid as exc:
                    db.session.rollback()
                    put_errors_on_form(form, exc)
                except CrmError as exc:
                    db.session.rollback()
                    flash(str(exc.message), "danger")
                else:
                    flash(_("Saved."), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            form.version.data = self.version_of(item)
            self.prefill_form(form, pk)
            self.update_redirect()  # as FAB's _edit: Save returns to the page the user came from
        return self._get_edit_widget(form=form, exclude_cols=[])

    def _delete(self, pk):  # noqa: ANN001, ANN202 - FAB's signature
        if self.writes.delete is None:
            abort(405)
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        try:
            self.writes.delete(int(pk), current_actor())
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
        else:
            flash(_("Deleted."), "success")


def crm_error_response(api: ModelRestApi, exc: CrmError):  # noqa: ANN201
    db.session.rollback()
    return api.response(exc.status, message=exc.normalized_messages())


class ServiceModelApi(ModelRestApi):
    """A FAB ModelRestApi whose POST/PUT/DELETE call `writes`; masking of PII in every read."""

    writes: Writes = Writes()
    model2schemaconverter = CrmModel2SchemaConverter
    # Fields whose value a reader sees masked (field name → masking function).
    masked_fields: dict[str, Callable[[Any], str]] = {}
    # Output renames, e.g. the stored masked column shown under the contract's field name.
    renamed_fields: dict[str, str] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_permissions = _without(self.base_permissions, self.writes, "can_post", "can_put", "can_delete")

    def create_blueprint(self, appbuilder: Any, *args: Any, **kwargs: Any) -> Any:
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._reject_unparsable_rison)
        return blueprint

    def _reject_unparsable_rison(self) -> Any:
        """400 for a `q=` FAB would turn into a 500: prison raises RecursionError/TypeError on some
        garbage (e.g. `q=((((`), which FAB's `@rison` does not catch, and a negative page or page
        size becomes a negative OFFSET/LIMIT, which PostgreSQL refuses."""
        value = request.args.get("q")
        if not value:
            return None
        try:
            args = prison.loads(value)
        except prison.decoder.ParserException:
            try:  # FAB falls back to JSON in `q=`
                args = json.loads(value)
            except ValueError:
                return None  # FAB's own 400
        except Exception:  # noqa: BLE001 - any other parser failure is the client's malformed input
            return self.response_400(message="Not a valid rison argument")
        if isinstance(args, dict):
            for key in ("page", "page_size"):
                number = args.get(key)
                if isinstance(number, int) and number < 0:
                    return self.response_400(message=f"{key} must not be negative")
        return None

    def add_api_spec(self, api_spec: Any) -> None:
        super().add_api_spec(api_spec)
        fix_api_spec(api_spec, self)

    def _get_field_info(self, field: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # FAB translates `description_columns.get(name, "")`, and gettext("") is the catalogue's
        # header ("Project-Id-Version: …"): `/_info` showed it as every undescribed field's text.
        info = super()._get_field_info(field, *args, **kwargs)
        for key in ("label", "description"):
            if str(info.get(key, "")).startswith("Project-Id-Version"):
                info[key] = ""
        return info

    def response_500(self, message: Any = None) -> Any:
        # FAB's @safe turns every exception into a 500 (calling this inside its `except`); a value
        # the database refused (e.g. `opr:eq,value:maybe` on a boolean) is the client's 400.
        db.session.rollback()
        if is_bad_value(sys.exc_info()[1]):
            return self.response_400(message="Bad request: a value does not fit its field")
        return super().response_500(message=message)

    def _mask(self, row: dict[str, Any]) -> None:
        for src, dst in self.renamed_fields.items():
            if src in row:
                row[dst] = row.pop(src)
        for field, fn in self.masked_fields.items():
            if row.get(field):
                row[field] = fn(row[field])

    def pre_get_list(self, data: dict[str, Any]) -> None:
        for row in data.get("result", []):
            self._mask(row)
        cols = data.get("list_columns")
        if cols:
            data["list_columns"] = [self.renamed_fields.get(c, c) for c in cols]

    def pre_get(self, data: dict[str, Any]) -> None:
        if isinstance(data.get("result"), dict):
            self._mask(data["result"])
        cols = data.get("show_columns")
        if cols:
            data["show_columns"] = [self.renamed_fields.get(c, c) for c in cols]

    def _json_body(self) -> dict[str, Any] | None:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None

    def _unknown_fields(self, body: dict[str, Any], allowed: list[str]) -> dict[str, list[str]]:
        allowed_set = set(allowed) | {f"{c}_id" for c in allowed} | {"version"}
        return {k: [_("Unknown field.")] for k in body if k not in allowed_set}

    def _render(self, status: int, item: Any) -> Any:
        data = {"result": self.show_model_schema.dump(item)}
        self.pre_get(data)
        return self.response(status, id=item.id, **data)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def post(self):  # noqa: ANN201
        if self.writes.create is None:
            return self.response(405, message="Method not allowed")
        body = self._json_body()
        if body is None:
            return self.response_400(message=_("Request body must be a JSON object."))
        unknown = self._unknown_fields(body, self.add_columns)
        if unknown:
            return self.response(400, message=unknown)
        try:
            item = self.writes.create(body, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self._render(201, item)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    def put(self, pk: int):  # noqa: ANN201
        if self.writes.update is None:
            return self.response(405, message="Method not allowed")
        body = self._json_body()
        if body is None:
            return self.response_400(message=_("Request body must be a JSON object."))
        unknown = self._unknown_fields(body, self.edit_columns)
        if unknown:
            return self.response(400, message=unknown)
        version = body.pop("version", None)
        try:
            item = self.writes.update(pk, body, current_actor(), version=version)
        except (Conflict, StaleDataError) as exc:  # StaleDataError: another writer won the race at commit
            db.session.rollback()
            conflict = exc if isinstance(exc, Conflict) else Conflict()
            return self.response(409, message=str(conflict.message), current=conflict.current)
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self._render(200, item)

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("delete")
    def delete(self, pk: int):  # noqa: ANN201
        if self.writes.delete is None:
            return self.response(405, message="Method not allowed")
        try:
            self.writes.delete(pk, current_actor())
        except CrmError as exc:
            return crm_error_response(self, exc)
        return self.response(200, message="OK")
