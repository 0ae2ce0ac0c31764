"""Benchmark-only app: the CRM plus a *stock* Flask-AppBuilder ModelView over the same customer table.

Issue 7.9 asks for the customer list, search and detail to be timed against "a stock Flask-AppBuilder
ModelView over the same tables". This module builds that baseline without touching the product:
`create_stock_app()` is `app.create_app()` with one extra view, `/stock/customers/`, declared the way
FAB's documentation does it — plain `SQLAInterface` (COUNT(*) over every matching row, then OFFSET over
full rows with their relationships), FAB's own list/show templates and filters, no row-rule tricks.

It shares the product's permission names (`class_permission_name = "CustomerModelView"`), so whoever may
list customers may list them here too and nothing new is written to the permission tables (web start-up
never writes permissions: FAB_UPDATE_PERMS is off). Served by `bench/bench_load.py` under gunicorn as
`bench.stock_app:create_stock_app()`; never registered by the product's `create_app`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

STOCK_ROUTE = "/stock/customers"


def _stock_view() -> type:
    # Imported late: the models need the app's configuration (database URL, field key) first.
    from app.models.customer import Customer

    class StockCustomerView(ModelView):
        """A customer list as a FAB tutorial would declare it (same columns as ours where they exist)."""

        datamodel = SQLAInterface(Customer)
        route_base = STOCK_ROUTE
        class_permission_name = "CustomerModelView"
        base_order = ("id", "desc")
        list_columns = ["id", "name", "mobile", "carrier", "id_number_masked", "city", "plan", "segment",
                        "status", "owner"]
        search_columns = ["name", "mobile", "city", "plan", "status", "segment", "owner", "created_at"]
        show_columns = ["id", "name", "gender", "birth_date", "id_number_masked", "mobile", "carrier", "landline",
                        "email", "address", "city", "plan", "segment", "status", "owner", "department",
                        "consent_marketing", "consent_analytics", "created_at", "updated_at"]

    return StockCustomerView


def create_stock_app(test_config: dict[str, Any] | None = None) -> Flask:
    from app import create_app
    from app.extensions import appbuilder

    app = create_app(test_config)
    with app.app_context():
        appbuilder.add_view_no_menu(_stock_view())
    return app
