"""The downloadable error report: CSV of (row, column, message), formula-safe like every export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import gettext as _

from app.services.exports import iter_csv


def error_csv(errors: Iterable[Any]) -> Iterator[bytes]:
    return iter_csv([_("Row"), _("Column"), _("Message")], ([row, column, message] for row, column, message in errors))
