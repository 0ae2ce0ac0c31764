"""Installation: schema upgrade, roles and permissions, departments, users."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import select, text

from app.extensions import appbuilder, db
from app.models.department import Department
from app.security.roles import ROLES, sync_roles

ROLE_NAMES = list(ROLES)
DEPARTMENTS = (
    ("customer-service", "客服部"),
    ("technical", "技术部"),
    ("billing", "计费部"),
    ("marketing", "市场部"),
    ("sales", "销售部"),
)


class SetupError(RuntimeError):
    pass


@dataclass
class InitResult:
    revision: str
    roles: list[str]
    admin_password: str | None


def init() -> InitResult:
    upgrade(directory=current_app.extensions["migrate"].directory)
    # Roles first: FAB grants each new permission to the Admin role as it creates it, and gives up
    # on the rest of a view's permissions if that role does not exist yet.
    for role in ROLE_NAMES:
        if appbuilder.sm.find_role(role) is None:
            appbuilder.sm.add_role(role)
    appbuilder.add_permissions(update_perms=True)  # every view's permission rows
    sync_roles(appbuilder.sm)  # then each role's share of them, Admin all
    for code, name in DEPARTMENTS:
        if db.session.execute(select(Department.id).where(Department.code == code)).first() is None:
            db.session.add(Department(code=code, name=name))
    db.session.commit()
    from app.services.care_rules import ensure_shipped_rules

    ensure_shipped_rules()  # the shipped care rules (issue 5), created once, never overwritten
    __import__("app.services.playbook").services.playbook.ensure_defaults()  # sales stage playbook (issue 3)
    from app.services.ticket_routing import ensure_defaults as ensure_ticket_routing

    ensure_ticket_routing()  # shipped ticket routing rules (issue 4.2), never overwritten
    from app.services.sla_policies import ensure_defaults as ensure_sla_policies

    ensure_sla_policies()  # shipped SLA targets per ticket type × priority (issue 4), never overwritten
    from app.services.kb import ensure_defaults as ensure_kb_categories

    ensure_kb_categories()  # the shipped knowledge-base category tree (issue 4.8)
    from app.services.templates import ensure_defaults as ensure_message_templates

    ensure_message_templates()  # shipped zh/en message templates (issues 4.6, 5.4), never overwritten
    __import__("app.services.key_rotation").services.key_rotation.ensure_key_check()  # field key check (issue 7)
    __import__("app.services.sales_summary").services.sales_summary.ensure_built()  # sales summary, once (3.10)
    password = None
    if appbuilder.sm.find_user(username="admin") is None:
        password = os.environ.get("CRM_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        create_user("admin", password, "Admin", email="admin@example.invalid")
        if os.environ.get("CRM_ADMIN_PASSWORD"):
            password = "(from CRM_ADMIN_PASSWORD)"  # noqa: S105 - a message, not a password
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() or "?"
    return InitResult(revision=revision, roles=ROLE_NAMES, admin_password=password)


def create_user(username: str, password: str, role: str, department: str | None = None,
                email: str | None = None, first_name: str | None = None, last_name: str | None = None):  # noqa: ANN201
    sm = appbuilder.sm
    if sm.find_user(username=username) is not None:
        raise SetupError(f"user '{username}' already exists")
    role_obj = sm.find_role(role)
    if role_obj is None:
        raise SetupError(f"role '{role}' does not exist; run 'crm init' first")
    dept = None
    if department:
        dept = db.session.execute(select(Department).where(Department.code == department)).scalar()
        if dept is None:
            codes = ", ".join(c for c, _ in DEPARTMENTS)
            raise SetupError(f"unknown department '{department}' (known: {codes})")
    user = sm.add_user(
        username=username,
        first_name=first_name or username,
        last_name=last_name or role,
        email=email or f"{username}@example.invalid",
        role=role_obj,
        password=password,
    )
    if not user:
        raise SetupError(f"could not create user '{username}'")
    if dept is not None:
        user.department_id = dept.id
        db.session.commit()
    return user


def set_password(username: str, password: str) -> None:
    sm = appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        raise SetupError(f"user '{username}' does not exist")
    sm.reset_password(user.id, password)
