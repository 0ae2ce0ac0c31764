"""The domain's error vocabulary. Services raise these; one mapping renders them for pages and API."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class CrmError(Exception):
    status = 400
    message: Any = _l("The request could not be processed.")

    def __init__(self, message: Any = None, **kwargs: Any) -> None:
        if message is not None:
            self.message = message
        self.details = kwargs
        super().__init__(str(self.message))

    def normalized_messages(self) -> Any:
        return str(self.message)

    def text(self) -> str:
        """The error as one line for a flash message on a page."""
        return str(self.message)


class NotFound(CrmError):
    status = 404
    message = _l("Record not found.")


class Forbidden(CrmError):
    status = 403
    message = _l("You are not allowed to do this.")


class Invalid(CrmError):
    """One or more fields are wrong; `errors` maps each field to its messages."""

    status = 422
    message = _l("Some fields are invalid.")

    def __init__(self, errors: dict[str, list[str] | str], message: Any = None,
                 related: dict[str, int] | None = None) -> None:
        self.errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
        # field → id of the existing customer a duplicate collides with (pages link to it)
        self.related = related or {}
        super().__init__(message)

    def normalized_messages(self) -> Any:
        return self.errors

    def text(self) -> str:
        return " ".join(m for msgs in self.errors.values() for m in msgs)


class Conflict(CrmError):
    """Someone else changed the record since it was loaded (optimistic lock)."""

    status = 409
    message = _l("This record was changed by someone else since you opened it.")

    def __init__(self, message: Any = None, current: dict[str, Any] | None = None) -> None:
        self.current = current or {}
        super().__init__(message)
