"""Departments: maintained by administrators (System menu)."""

from __future__ import annotations

from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l

from app.models.department import Department
from app.views.datamodel import CrmSQLAInterface


class DepartmentModelView(ModelView):
    """Plain FAB CRUD: a department is a code and a name; uniqueness is the database's."""

    datamodel = CrmSQLAInterface(Department)
    route_base = "/departments"
    list_title = _l("Departments")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    show_title = _l("Department")
    label_columns = {"code": _l("Code"), "name": _l("Department name"), "parent": _l("Parent department")}
    list_columns = ["code", "name"]
    add_columns = edit_columns = show_columns = ["code", "name"]
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
