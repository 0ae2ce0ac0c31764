"""Application factory: binds the extensions and registers every view, API and command."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.extensions import appbuilder, csrf, db, migrate

BASE_DIR = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(BASE_DIR / "instance"))
    app.config.from_object("config.Config")
    if test_config:
        app.config.update(test_config)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(BASE_DIR / "translations")
    logging.basicConfig(level=app.config.get("LOG_LEVEL", logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    from app.security import request_log

    request_log.install(app)  # a request id on every log line (the format above prints it)
    # FAB logs every start-up step at INFO; keep our own INFO logs, FAB's warnings only.
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)

    from app import models  # noqa: F401 - every model registered before the schema is used
    from app.services.crypto import FieldCipher

    # Fail at start-up, not on the first request, if the field key is unusable.
    FieldCipher(app.config["CRM_FIELD_KEY"])

    from app.views import fab_speedups

    fab_speedups.install()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    # CSRF protection for every form and page POST (FAB's forms carry the token, and the 360
    # page's reveal button sends it as X-CSRFToken). FAB only validates tokens inside its own
    # WTForms; a hand-written POST route such as /customer360/<id>/reveal was unprotected, and
    # `csrf_token()` was undefined in templates. Bound before FAB so it exempts the JWT APIs.
    csrf.init_app(app)
    with app.app_context():
        appbuilder.init_app(app, db.session)
        _register_views()

    from app.services.masking import mask_id_number, mask_mobile

    # One masking formatter for templates too (pages never format PII themselves).
    app.jinja_env.filters["mask_mobile"] = mask_mobile
    app.jinja_env.filters["mask_id_number"] = mask_id_number
    from app.timefmt import localtime

    app.jinja_env.filters["localtime"] = localtime
    from app.views import page_cache

    page_cache.install(app)

    from app import errors
    from app.cli import register as register_cli
    from app.security import headers as security_headers
    from app.services.key_rotation import check_field_key
    from app.views.health import bp as health_bp

    app.register_blueprint(health_bp)
    errors.register(app)
    security_headers.install(app)  # CSP with nonces, security headers, idle session timeout
    check_field_key(app)  # fail closed: a wrong CRM_FIELD_KEY stops the start with a clear error
    register_cli(app)
    # Embedded jobs belong to a serving process, never to a `flask crm …` command (those include
    # `crm scheduler`, which runs its own).
    if app.config.get("CRM_SCHEDULER") == "embedded" and "crm" not in sys.argv[1:]:
        from app.jobs.scheduler import start_embedded

        start_embedded(app)
    return app


def _register_views() -> None:
    from app.views.audit import AuditLogApi, AuditLogModelView
    from app.views.care import CareAgendaView, CareRuleApi, CareRuleModelView, CareTaskApi, CareTeamView
    from app.views.catalog import PlanApi, PlanModelView, ValueAddedServiceApi, ValueAddedServiceModelView
    from app.views.customer360 import Customer360View
    from app.views.customers import CustomerApi, CustomerModelView
    from app.views.departments import DepartmentModelView
    from app.views.jobs import JobsView
    from app.views.records import (
        BillApi,
        BillLineModelView,
        BillModelView,
        BusinessChangeApi,
        BusinessChangeModelView,
        PaymentApi,
        PaymentModelView,
        UsageRecordApi,
        UsageRecordModelView,
    )
    from app.views.subscriptions import SubscriptionApi, SubscriptionModelView, SubscriptionVasModelView

    ab = appbuilder
    # Menu: 客户 / 业务 / 账务 / 系统 (Customer / Business / Billing / System).
    ab.add_view(CustomerModelView, "Customers", label=_l("Customers"), icon="fa-users",
                category="Customer", category_label=_l("Customer"), category_icon="fa-address-book")
    ab.add_view_no_menu(Customer360View)
    ab.add_view(SubscriptionModelView, "Subscriptions", label=_l("Subscriptions"), icon="fa-sim-card",
                category="Business", category_label=_l("Business"), category_icon="fa-briefcase")
    ab.add_view_no_menu(SubscriptionVasModelView)
    ab.add_view(BusinessChangeModelView, "Business changes", label=_l("Business changes"), icon="fa-history",
                category="Business")
    ab.add_view(PlanModelView, "Plans", label=_l("Plans"), icon="fa-tags", category="Business")
    ab.add_view(ValueAddedServiceModelView, "Value-added services", label=_l("Value-added services"),
                icon="fa-plus-square", category="Business")
    ab.add_view(BillModelView, "Bills", label=_l("Bills"), icon="fa-file-invoice",
                category="Billing", category_label=_l("Billing"), category_icon="fa-yen-sign")
    ab.add_view_no_menu(BillLineModelView)
    ab.add_view(PaymentModelView, "Payments", label=_l("Payments"), icon="fa-money-bill", category="Billing")
    ab.add_view(UsageRecordModelView, "Monthly usage", label=_l("Monthly usage"), icon="fa-chart-bar",
                category="Billing")
    # Care / 关怀 (issue 5): my follow-ups, the team page (managers) and the care rules.
    ab.add_view(CareAgendaView, "My follow-ups", label=_l("My follow-ups"), icon="fa-calendar-check",
                category="Care", category_label=_l("Care"), category_icon="fa-heart")
    ab.add_view(CareTeamView, "Team follow-ups", label=_l("Team"), icon="fa-user-friends", category="Care")
    ab.add_view(CareRuleModelView, "Care rules", label=_l("Care rules"), icon="fa-sliders-h", category="Care")
    ab.add_view(DepartmentModelView, "Departments", label=_l("Departments"), icon="fa-sitemap",
                category="System", category_label=_l("System"), category_icon="fa-cogs")
    ab.add_link("Scheduled jobs", href="/jobs/", label=_l("Scheduled jobs"), icon="fa-clock", category="System")
    ab.add_view_no_menu(JobsView)
    ab.add_view(AuditLogModelView, "Audit log", label=_l("Audit log"), icon="fa-shield-alt",
                category="System", category_label=_l("System"), category_icon="fa-cogs")
    for api in (CustomerApi, PlanApi, ValueAddedServiceApi, SubscriptionApi, UsageRecordApi, BillApi,
                PaymentApi, BusinessChangeApi, AuditLogApi, CareTaskApi, CareRuleApi):
        ab.add_api(api)
    from app.views.menus import (
        analytics,
        bulk,
        campaigns,
        dashboards,
        exports,
        hardening,
        imports,
        knowledge,
        merge,
        messaging,
        sales,
        service_sla,
        teams,
        tickets,
    )

    for area in (sales, tickets, service_sla, messaging, knowledge, analytics, hardening,
                 imports, bulk, teams, merge, campaigns, dashboards, exports):
        area.register(ab)
    # The contract's OpenAPI description at /api/v1/_openapi. FAB registers it only together with
    # its Swagger UI (FAB_API_SWAGGER_UI), which loads assets from a CDN; the JSON alone is enough.
    from flask import current_app
    from flask_appbuilder.api.manager import OpenApi

    if not current_app.config.get("FAB_API_SWAGGER_UI"):
        ab.add_api(OpenApi)
