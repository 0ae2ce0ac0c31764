"""FAB's model-to-marshmallow converter, with foreign-key columns included.

marshmallow-sqlalchemy leaves foreign keys (`owner_id`, `customer_id`) out of auto schemas unless
asked; the API contract exposes them, so every CRM API converts with `include_fk = True`.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.api.convert import Model2SchemaConverter
from marshmallow import fields
from marshmallow_sqlalchemy import ModelConverter, SQLAlchemyAutoSchema

NAIVE_UTC_SPEC = {"format": "utc-naive-date-time", "description": "UTC, ISO 8601 without an offset",
                  "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"}


class CrmModel2SchemaConverter(Model2SchemaConverter):
    def _column2field(self, *args: Any, **kwargs: Any) -> Any:
        field = super()._column2field(*args, **kwargs)
        if type(field) is fields.Decimal:  # FAB builds plain columns with the stock converter
            field.as_string = True
            field.metadata = {**field.metadata, **MoneyField.SPEC}
        elif type(field) is fields.DateTime:
            # Stored and sent as naive UTC ("2026-10-31T17:53:31"): not an RFC 3339 `date-time`,
            # which needs an offset. Say what is sent rather than change every client's input.
            field.metadata = {**field.metadata, **NAIVE_UTC_SPEC}
        return field

    def _meta_schema_factory(self, columns: list[str], model: Any, class_mixin: Any,
                             parent_schema_name: str | None = None) -> Any:
        _model, _columns, _parent = model, columns, parent_schema_name

        class MetaSchema(SQLAlchemyAutoSchema, class_mixin):  # type: ignore[misc, valid-type]
            class Meta:
                model = _model
                include_fk = True
                model_converter = CrmModelConverter
                load_instance = True
                sqla_session = current_app.appbuilder.session
                parent_schema_name = _parent
                if _columns:
                    fields = _columns

        return MetaSchema


class MoneyField(fields.Decimal):
    """A NUMERIC column as the API sends it: a string such as "59.00" (exact; never a float).

    The JSON encoder already wrote Decimals as strings while the generated OpenAPI said `number`,
    so every response with money broke its own schema; now the spec says `string`, format decimal.
    """

    SPEC = {"type": "string", "format": "decimal"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["as_string"] = True
        super().__init__(*args, **kwargs)
        self.metadata = {**self.metadata, **self.SPEC}


class CrmModelConverter(ModelConverter):
    SQLA_TYPE_MAPPING = {**ModelConverter.SQLA_TYPE_MAPPING, sa.Numeric: MoneyField}


def _response_schema(operation: dict[str, Any] | None) -> dict[str, Any]:
    content = (operation or {}).get("responses", {}).get("200", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {})


def fix_api_spec(api_spec: Any, api: Any) -> None:
    """Make FAB's generated description say what the API really sends (checked by schemathesis).

    FAB itself edits `api_spec._paths` after adding a path; this does the same for one API:
    - a list's `ids` are integer primary keys, not strings;
    - `/_info`'s `add_columns` / `edit_columns` are arrays of field descriptions, not objects;
    - fields the API renames on output (`id_number_masked` → `id_number`) carry the output name.
    """
    for path, operations in api_spec._paths.items():
        if not path.startswith(f"{api.route_base}/"):
            continue
        schema = _response_schema(operations.get("get"))
        props = schema.get("properties", {})
        if props.get("ids", {}).get("items", {}).get("type") == "string":
            props["ids"]["items"] = {"type": "integer"}
        if path.endswith("/_info"):
            for key in ("add_columns", "edit_columns"):
                if props.get(key, {}).get("type") == "object":
                    props[key] = {"type": "array", "items": {"type": "object"}}
    # A 400/422 names each bad field: `message` is {"field": ["…"]}, or a sentence for a bad request.
    for status in ("400", "422"):
        response = copy.deepcopy(api_spec.components.responses.get(status, {}))  # FAB's dict is shared
        message = response.get("content", {}).get("application/json", {}).get("schema", {}) \
            .get("properties", {}).get("message")
        if message is not None and message.get("type") == "string":
            message.clear()
            message["anyOf"] = [{"type": "string"}, {"type": "object"}]
            api_spec.components.responses[status] = response
    renamed = getattr(api, "renamed_fields", {})
    if not renamed:
        return
    schemas = api_spec.components.schemas
    for name in (f"{type(api).__name__}.get_list", f"{type(api).__name__}.get"):
        schema = schemas.get(name)
        if not schema:
            continue
        for src, dst in renamed.items():
            if src in schema.get("properties", {}):
                schema["properties"][dst] = schema["properties"].pop(src)
            if src in schema.get("required", []):
                schema["required"] = [dst if f == src else f for f in schema["required"]]
