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
    roles = frozenset(r.name for r in user.roles)
    perms = set()
    for role in user.roles:
        for pv in role.permissions:
            if pv.view_menu.name == REVEAL_VIEW:
                perms.add(pv.permission.name)
    return Actor(
        id=user.id,
        username=user.username,
        roles=roles,
        department_id=getattr(user, "department_id", None),
        ip=request.remote_addr,
        permissions=frozenset(perms),
    )
