"""Password policy, enforced wherever a password is set.

Rules: at least CRM_PASSWORD_MIN_LENGTH characters (default 10), not equal to / not containing
the username, not on the shipped common-password list (`common_passwords.txt`).

Where it applies:
- FAB's forms (add user, reset password, reset my password) through FAB's own hook
  `FAB_PASSWORD_COMPLEXITY_VALIDATOR` = `fab_validator` (config.py), which also covers FAB's user
  API should it be switched on;
- `crm create-user`, `crm seed --demo-users` and `crm init` through the security manager's
  `add_user` / `reset_password` (app/security/manager.py), which refuse a weak password.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import gettext

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 256
_LIST = Path(__file__).with_name("common_passwords.txt")


class PasswordPolicyError(ValueError):
    """The password breaks the policy; `messages` lists each rule it breaks."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("CRM_PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    return DEFAULT_MIN_LENGTH


def problems(password: str | None, username: str | None = None) -> list[str]:
    """Each rule the password breaks, as a user-facing message (empty list: acceptable)."""
    password = password or ""
    found: list[str] = []
    minimum = _min_length()
    if len(password) < minimum:
        found.append(gettext("Password must be at least %(n)d characters long.", n=minimum))
    if len(password) > MAX_LENGTH:
        found.append(gettext("Password must be at most %(n)d characters long.", n=MAX_LENGTH))
    name = (username or "").strip().lower()
    if name and name in password.lower():
        found.append(gettext("Password must not contain the username."))
    if password.lower() in common_passwords():
        found.append(gettext("This password is too common; choose another."))
    return found


def check(password: str | None, username: str | None = None) -> None:
    """Raise PasswordPolicyError if the password breaks the policy."""
    found = problems(password, username)
    if found:
        raise PasswordPolicyError(found)


def _username_in_request() -> str | None:
    """The user whose password a FAB form is setting: the add form's username field, the user
    being reset by an admin (`?pk=`), or the signed-in user resetting their own password."""
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    from app.extensions import appbuilder

    pk = request.args.get("pk")
    if pk and str(pk).isdigit() and "resetpassword" in request.path.lower():
        user = appbuilder.sm.get_user_by_id(int(pk))
        return user.username if user else None
    user = getattr(g, "user", None)
    return getattr(user, "username", None)


def fab_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB turns the exception into a message on the field."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    found = problems(password, _username_in_request())
    if found:
        raise PasswordComplexityValidationError(" ".join(found))
