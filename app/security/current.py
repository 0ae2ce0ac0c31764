"""The acting user of the current request, as a plain `Actor` for the services."""

from __future__ import annotations

from flask import g, has_request_context, request

from app.services.actor import SYSTEM, Actor

REVEAL_PERMISSION = "can_reveal"
REVEAL_VIEW = "Customer360"


def current_actor() -> Actor:
    if not has_request_context():
        return SYSTEM
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(id=None, username="anonymous", ip=request.remote_addr)
    from app.extensions import appbuilder

    roles = frozenset(r.name for r in user.roles)
    # Through the security manager's per-request permission set: no extra queries.
    role_ids = [r.id for r in user.roles]
    perms = {REVEAL_PERMISSION} if role_ids and appbuilder.sm.exist_permission_on_roles(
        REVEAL_VIEW, REVEAL_PERMISSION, role_ids) else set()
    return Actor(
        id=user.id,
        username=user.username,
        roles=roles,
        department_id=getattr(user, "department_id", None),
        ip=request.remote_addr,
        permissions=frozenset(perms),
    )
