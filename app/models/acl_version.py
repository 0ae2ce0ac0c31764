"""A counter of changes to roles and permissions, moved by database triggers (migration 0027).

Every page asks whether the signed-in user may see each menu item, button and the view itself. The
answers come from the user's roles' permissions: a five-table join (380 rows for an administrator,
about 2.5 ms of a 17 ms list page). Each process keeps them per set of roles instead and reads only
this one number per request (`CrmSecurityManager`). Any INSERT, UPDATE, DELETE or TRUNCATE on
`ab_role`, `ab_permission`, `ab_view_menu`, `ab_permission_view` or `ab_permission_view_role` moves
it in the same transaction, whoever writes — the role pages, `crm init`, FAB's commands, plain SQL
— so the next request in every process sees the change, as before.

A user's own roles are not cached: they are read with the user on every request.
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

# The tables whose rows decide what a role may do.
ACL_TABLES = ("ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role")


class AclVersion(Model):
    __tablename__ = "acl_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # one row, id 1
    n: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    # A logical restore loads the permission tables (moving the counter), then puts this row back.
    __table_args__ = ({"info": {"written_by_triggers": True}},)
