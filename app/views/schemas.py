"""FAB's model-to-marshmallow converter, with foreign-key columns included.

marshmallow-sqlalchemy leaves foreign keys (`owner_id`, `customer_id`) out of auto schemas unless
asked; the API contract exposes them, so every CRM API converts with `include_fk = True`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.api.convert import Model2SchemaConverter
from marshmallow_sqlalchemy import SQLAlchemyAutoSchema


class CrmModel2SchemaConverter(Model2SchemaConverter):
    def _meta_schema_factory(self, columns: list[str], model: Any, class_mixin: Any,
                             parent_schema_name: str | None = None) -> Any:
        _model, _columns, _parent = model, columns, parent_schema_name

        class MetaSchema(SQLAlchemyAutoSchema, class_mixin):  # type: ignore[misc, valid-type]
            class Meta:
                model = _model
                include_fk = True
                load_instance = True
                sqla_session = current_app.appbuilder.session
                parent_schema_name = _parent
                if _columns:
                    fields = _columns

        return MetaSchema
