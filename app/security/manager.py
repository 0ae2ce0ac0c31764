"""CRM security manager: our user model, and audited logins."""

from __future__ import annotations

from flask import request
from flask_appbuilder.security.sqla.manager import SecurityManager

from app.models.user import CrmUser
from app.security.views import CrmUserDBModelView


class CrmSecurityManager(SecurityManager):
    user_model = CrmUser
    userdbmodelview = CrmUserDBModelView

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
