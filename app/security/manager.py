"""CRM security manager: our user model, and audited logins."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from flask import flash, g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.models.acl_version import AclVersion
from app.models.user import CrmUser
from app.security.views import CrmUserDBModelView

# Role ids → (acl_version.n, those roles' permissions, the Public role's), for this process. Entries
# are checked against the counter on every request, so a change anywhere shows on the next request.
_PERMISSIONS: dict[tuple[int, ...], tuple[int, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]] = {}
_ACL_VERSION = select(AclVersion.n).where(AclVersion.id == 1)


# Values kept in `g` for the current request only, tagged with it: tests that hold one app context
# across requests share `g`, and must not see the previous request's.
_MISSING = object()


def _this_requests(name: str) -> Any:
    held = g.get(name)
    if held is not None and held[0] is request._get_current_object():  # noqa: SLF001 - identity of this request
        return held[1]
    return _MISSING


def _keep_for_this_request(name: str, value: Any) -> None:
    setattr(g, name, (request._get_current_object(), value))  # noqa: SLF001 - identity of this request


class CrmSecurityManager(SecurityManager):
    user_model = CrmUser
    userdbmodelview = CrmUserDBModelView
    # FAB's "User's Statistics" chart loads Google's chart loader from www.gstatic.com: a request
    # leaving the machine, and a script the CSP refuses. Not registered.
    userstatschartview = None

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids: list[int]) -> bool:
        """FAB asks the database once per menu item and button (about 30 queries a page); here the
        roles' permissions are read once per request and each check is a set look-up."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        return (view_name, permission_name) in self._role_permissions(role_ids)

    def _role_permissions(self, role_ids: Iterable[int]) -> frozenset[tuple[str, str]]:
        key = tuple(sorted(role_ids))
        cache = g.setdefault("_crm_permissions", {})
        if key not in cache:
            self._load_permissions(key)
        return cache[key]

    def is_item_public(self, permission_name, view_name):  # noqa: ANN001, ANN201 - FAB's signature
        """FAB looks the Public role up again for every protected call (two or more queries a
        request, and none of our roles is public); here once per request."""
        if not has_request_context():
            return super().is_item_public(permission_name, view_name)
        return (view_name, permission_name) in self._public_permissions()

    def _public_permissions(self) -> frozenset[tuple[str, str]]:
        if _this_requests("_crm_public_permissions") is _MISSING:
            self._load_permissions(self._db_role_ids(self._current_roles() or []))
        return _this_requests("_crm_public_permissions")

    def _load_permissions(self, role_ids: tuple[int, ...]) -> None:
        """The permissions of these roles and of the Public role: kept by the process while the
        permission tables' change counter (`acl_version`) stays the same, else read in one query
        (a page asks for both: the Public role first, in FAB's `has_access` decorator)."""
        version = self._acl_version()
        kept = _PERMISSIONS.get(role_ids)
        if kept is not None and version is not None and kept[0] == version:
            roles, public = kept[1], kept[2]
        else:
            roles, public = self._read_permissions(role_ids)
            if version is not None:
                _PERMISSIONS[role_ids] = (version, roles, public)
        g.setdefault("_crm_permissions", {})[role_ids] = roles
        _keep_for_this_request("_crm_public_permissions", public)

    def _acl_version(self) -> int | None:
        """The permission tables' change counter, read before the permissions it vouches for
        (so what is kept is never older than its number); None: no counter, nothing kept.
        A signed-in request has it already, from the user's own query (`load_user`)."""
        held = _this_requests("_crm_acl_version")
        return self.session.execute(_ACL_VERSION).scalar() if held is _MISSING else held

    def _read_permissions(self, role_ids: tuple[int, ...]) -> tuple[frozenset, frozenset]:
        public_role = self.role_model.name == self.auth_role_public
        rows = self.session.execute(
            select(public_role, assoc_permissionview_role.c.role_id, self.viewmenu_model.name,
                   self.permission_model.name)
            .select_from(self.permissionview_model)
            .join(assoc_permissionview_role,
                  assoc_permissionview_role.c.permission_view_id == self.permissionview_model.id)
            .join(self.role_model, self.role_model.id == assoc_permissionview_role.c.role_id)
            .join(self.permission_model)
            .join(self.viewmenu_model)
            .where(or_(assoc_permissionview_role.c.role_id.in_(role_ids), public_role))
        ).all()
        return (frozenset((view, perm) for _public, role_id, view, perm in rows if role_id in role_ids),
                frozenset((view, perm) for public, _role, view, perm in rows if public))

    def access_fingerprint(self) -> Hashable:
        """Everything `has_access` answers from for the current request's user: the permissions of
        their roles, of the Public role and any built-in role names. Two requests with equal
        fingerprints see the same menu and buttons (app.views.page_cache keys on it); a change
        to a role's permissions changes the fingerprint at once, in every process."""
        public = self._public_permissions()
        roles = self._current_roles()
        if roles is None:
            return ("anonymous", public)
        builtin = tuple(sorted(r.name for r in roles if r.name in self.builtin_roles))
        db_role_ids = self._db_role_ids(roles)
        return (builtin, self._role_permissions(db_role_ids) if db_role_ids else frozenset(), public)

    def _current_roles(self) -> list[Any] | None:
        """The signed-in user's roles; None for an anonymous request."""
        user = g.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return self.get_user_roles(user)

    def _db_role_ids(self, roles: list[Any]) -> tuple[int, ...]:
        """Ids of the roles whose permissions live in the database (FAB's built-in roles are config)."""
        return tuple(sorted(r.id for r in roles if r.name not in self.builtin_roles))

    def load_user(self, pk):  # noqa: ANN001, ANN201 - FAB's signature
        """The signed-in user with roles and groups in one query (FAB: three, on every request),
        and the permission counter with them: the page's permission check needs no query of its own."""
        row = self.session.execute(
            select(self.user_model, _ACL_VERSION.scalar_subquery())
            .where(self.user_model.id == int(pk))
            .options(joinedload(self.user_model.roles), joinedload(self.user_model.groups))
        ).unique().first()
        if row is None:
            return None
        user, version = row
        if has_request_context():
            _keep_for_this_request("_crm_acl_version", version)
        return user if user.is_active else None

    def auth_user_db(self, username, password):  # noqa: ANN001, ANN201 - FAB's signature
        # Imported here: services import the extensions, which import this module's package.
        from app.security import lockout
        from app.services import audit
        from app.services.actor import Actor

        ip = request.remote_addr if request else None
        # Lockout (issue 7): a locked account or address is refused before the password is checked.
        lock = lockout.status(username, ip)
        if lock is not None:
            lockout.record(username, ip, "blocked")
            self.session.commit()
            self._report_lock(lock)
            return None
        user = super().auth_user_db(username, password)
        lock = lockout.record(username, ip, "failure" if user is None else "success",
                              user_id=user.id if user is not None else None)
        if lock is not None:
            self._report_lock(lock)
        if user is None:
            actor = Actor(id=None, username=(username or "")[:64], ip=ip)
            audit.record(actor, "login_failed", "user", None, {"username": (username or "")[:64]})
        else:
            actor = Actor(id=user.id, username=user.username, ip=ip)
            audit.record(actor, "login", "user", user.id)
        self.session.commit()
        return user

    @staticmethod
    def _report_lock(lock) -> None:  # noqa: ANN001 - app.security.lockout.Lock
        """The sign-in page shows why; the API's 401 becomes a 429 (app/security/headers.py)."""
        if not has_request_context():
            return
        g.crm_login_lock = lock
        if not request.path.startswith("/api/"):
            flash(lock.message(), "danger")

    def add_user(self, username, first_name, last_name, email, role=None, password="",  # noqa: ANN001, ANN201, PLR0913
                 hashed_password="", groups=None, commit=True):
        """FAB's add_user, refusing a password that breaks the policy (crm create-user, seed, init)."""
        if password and not hashed_password:
            self._check_password(password, username)
        return super().add_user(username, first_name, last_name, email, role=role, password=password,
                                hashed_password=hashed_password, groups=groups, commit=commit)

    def reset_password(self, userid, password):  # noqa: ANN001, ANN201 - FAB's signature
        user = self.get_user_by_id(userid)
        self._check_password(password, user.username if user else None)
        return super().reset_password(userid, password)

    @staticmethod
    def _check_password(password: str, username: str | None) -> None:
        from app.security.passwords import problems

        found = problems(password, username)
        if found:
            from app.services.setup import SetupError  # what `crm create-user` reports as "Error: …"

            raise SetupError(" ".join(found))
