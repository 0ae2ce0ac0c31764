"""CRM security manager: our user model, and audited logins."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from sqlalchemy import select

from app.models.user import CrmUser
from app.security.views import CrmUserDBModelView


class CrmSecurityManager(SecurityManager):
    user_model = CrmUser
    userdbmodelview = CrmUserDBModelView

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids: list[int]) -> bool:
        """FAB asks the database once per menu item and button (about 30 queries a page); here the
        roles' permissions are read once per request and each check is a set look-up."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        key = tuple(sorted(role_ids))
        cache = g.setdefault("_crm_permissions", {})
        if key not in cache:
            rows = self.session.execute(
                select(self.viewmenu_model.name, self.permission_model.name)
                .select_from(self.permissionview_model)
                .join(assoc_permissionview_role,
                      assoc_permissionview_role.c.permission_view_id == self.permissionview_model.id)
                .join(self.permission_model)
                .join(self.viewmenu_model)
                .where(assoc_permissionview_role.c.role_id.in_(key))
            ).all()
            cache[key] = {(view, perm) for view, perm in rows}
        return (view_name, permission_name) in cache[key]

    def auth_user_db(self, username, password):  # noqa: ANN001, ANN201 - FAB's signature
        user = super().auth_user_db(username, password)
        # Imported here: services import the extensions, which import this module's package.
        from app.services import audit
        from app.services.actor import Actor

        ip = request.remote_addr if request else None
        if user is None:
            actor = Actor(id=None, username=(username or "")[:64], ip=ip)
            audit.record(actor, "login_failed", "user", None, {"username": (username or "")[:64]})
        else:
            actor = Actor(id=user.id, username=user.username, ip=ip)
            audit.record(actor, "login", "user", user.id)
        self.session.commit()
        return user
