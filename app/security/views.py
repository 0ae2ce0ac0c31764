"""FAB's user administration, with the user's department (it scopes an agent's queue)."""

from __future__ import annotations

from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l


class CrmUserDBModelView(UserDBModelView):
    label_columns = {**UserDBModelView.label_columns, "department": _l("Department")}
    list_columns = ["username", "first_name", "last_name", "email", "department", "active", "roles"]
    add_columns = ["first_name", "last_name", "username", "active", "email", "department", "roles",
                   "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "department", "roles"]
    search_columns = ["username", "first_name", "last_name", "email", "department", "active", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "department", "login_count"]}),
        *UserDBModelView.show_fieldsets[1:],
    ]
