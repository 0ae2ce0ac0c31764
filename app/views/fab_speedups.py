"""Per-request costs of FAB that do not depend on the request, paid once per process.

Rison schemas: compile each JSON schema once.

FAB checks every API request's `q=` with `jsonschema.validate(instance, schema)`. That function
checks the *schema itself* against the JSON Schema meta-schema on every call before it looks at
the instance, and that took about half of a one-row API request (measured ~20 ms at 1M
customers, bench/RESULTS.md). FAB's schemas are module-level constants, so a validator is built
once per schema; the errors raised are the same (`best_match`, as `jsonschema.validate` does).

Filter lists: every `Filters(...)` (FAB builds about three per list request, one of them in
`get_joined_filters`) converts every column of the model into its filter objects again — a
dozen introspection calls per column, about 1 ms a request for the customer model. The
result depends only on the interface and the columns, and the filter objects keep no state
(the values live in `Filters.values`), so each list is built once and handed out as a copy
(`Filters.__init__` extends the lists in place with `search_filters`).

Row values: FAB's `_get_attr_value` reads each list column up to three times (`hasattr`, then
`getattr` to see whether it is callable, then `getattr` for the value). For a computed column
(a translated status label, the carrier's name, a masked number) that is three computations;
on the customer list, 60 of the row cells' 90 label translations. Read once here, with the
same results (`getattr` with a default, like `hasattr`, only swallows AttributeError).
"""

from __future__ import annotations

import enum
from functools import reduce
from typing import Any

import flask_appbuilder.api as fab_api
import jsonschema
from flask_appbuilder.models.base import BaseInterface
from flask_appbuilder.models.filters import Filters, map_args_filter
from jsonschema.exceptions import best_match


class _CompiledJsonschema:
    ValidationError = jsonschema.ValidationError
    _validators: dict[int, tuple[Any, Any]] = {}

    @classmethod
    def validate(cls, instance: Any, schema: Any) -> None:
        cached = cls._validators.get(id(schema))
        if cached is None or cached[0] is not schema:
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)
            cached = cls._validators[id(schema)] = (schema, validator_cls(schema))
        error = best_match(cached[1].iter_errors(instance))
        if error is not None:
            raise error


_stock_get_filters = Filters._get_filters


def _get_filters_once(self: Filters, cols: list[str]) -> dict[str, list[Any]]:
    cache = self.datamodel.__dict__.setdefault("_crm_filters", {})
    key = (self.filter_converter, tuple(cols))
    built = cache.get(key)
    if built is None:
        built = cache[key] = _stock_get_filters(self, cols)
    else:
        # A filter's constructor also registers its class for its REST operator name (FAB's
        # module-level `map_args_filter`, read by `rest_add_filters`); replay that, in order, so the
        # operator → class map ends up exactly as stock FAB leaves it.
        for filters in built.values():
            for flt in filters:
                if flt.arg_name:
                    map_args_filter[flt.arg_name] = type(flt)
    return {column: list(filters) for column, filters in built.items()}


_MISSING = object()


def _get_attr_value_once(item: Any, col: str) -> Any:
    value = getattr(item, col, _MISSING)
    if value is _MISSING:
        try:  # an inner object's attribute ("plan.name")
            return reduce(getattr, col.split("."), item)
        except Exception:  # noqa: BLE001 - as FAB: a missing inner attribute shows as ""
            return ""
    if callable(value):
        return value()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def install() -> None:
    BaseInterface._get_attr_value = staticmethod(_get_attr_value_once)
    fab_api.jsonschema = _CompiledJsonschema
    Filters._get_filters = _get_filters_once
