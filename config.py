"""Application settings, read from the environment.

Secrets: in development `CRM_SECRET_KEY` and `CRM_FIELD_KEY` are generated once into `instance/`
and reused; with `CRM_ENV=production` a missing key stops start-up with a clear message.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB
from flask_babel import lazy_gettext

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _instance_secret(env_name: str, filename: str, make: callable) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    if os.environ.get("CRM_ENV", "development") == "production":
        raise ConfigError(f"{env_name} is not set; production refuses to start without it.")
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Accept the common short forms and use psycopg 3, the driver we pin.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'crm.db'}"


def _password_policy(password: str) -> None:
    from app.security.passwords import fab_validator

    fab_validator(password)


class Config:
    # Lazy: the navbar and page titles show it in the reader's language.
    APP_NAME = lazy_gettext("Telecom CRM")
    APP_ICON = ""
    APP_THEME = ""
    CRM_ENV = os.environ.get("CRM_ENV", "development")
    SECRET_KEY = _instance_secret("CRM_SECRET_KEY", "secret_key", lambda: secrets.token_hex(32))
    CRM_FIELD_KEY = _instance_secret(
        "CRM_FIELD_KEY", "field_key", lambda: base64.b64encode(os.urandom(32)).decode()
    )
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Schema and permissions are owned by Alembic and `crm init`, not by web start-up:
    # several workers must not race to create tables or rewrite permissions.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.CrmSecurityManager"
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False
    FAB_API_MAX_PAGE_SIZE = 200
    FAB_INDEX_VIEW = "app.views.home.CrmIndexView"
    FAB_BASE_TEMPLATE = "crm/baselayout.html"
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    WTF_CSRF_ENABLED = True
    # Hardening (issue 7; app/security/). API access tokens live 15 minutes (refresh tokens 12 h);
    # a page session ends after 30 idle minutes; cookies are HttpOnly, SameSite=Lax, and Secure
    # when the app is served over TLS (CRM_TLS=1, e.g. behind nginx), which also turns on HSTS.
    JWT_ACCESS_TOKEN_EXPIRES = dt.timedelta(minutes=int(os.environ.get("CRM_JWT_MINUTES", "15")))
    JWT_REFRESH_TOKEN_EXPIRES = dt.timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = dt.timedelta(minutes=int(os.environ.get("CRM_SESSION_IDLE_MINUTES", "30")))
    CRM_TLS = os.environ.get("CRM_TLS", "0").lower() in ("1", "true", "yes", "on")
    # Number of trusted reverse proxies in front (nginx: 1); their X-Forwarded-* headers are believed.
    CRM_PROXY_HOPS = int(os.environ.get("CRM_PROXY_HOPS", "0"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = CRM_TLS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = CRM_TLS
    # Password policy (app/security/passwords.py) through FAB's own hook on every password form.
    CRM_PASSWORD_MIN_LENGTH = 10
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = staticmethod(_password_policy)
    # Sign-in lockout (app/security/lockout.py): per account, and per address (higher: shared NAT).
    CRM_LOCKOUT_ATTEMPTS = int(os.environ.get("CRM_LOCKOUT_ATTEMPTS", "5"))
    CRM_LOCKOUT_IP_ATTEMPTS = int(os.environ.get("CRM_LOCKOUT_IP_ATTEMPTS", "20"))
    CRM_LOCKOUT_WINDOW_MINUTES = int(os.environ.get("CRM_LOCKOUT_WINDOW_MINUTES", "15"))
    CRM_LOCKOUT_MINUTES = int(os.environ.get("CRM_LOCKOUT_MINUTES", "15"))
    # Previous field keys (comma-separated), readable during a key rotation (`crm keys rotate`).
    CRM_FIELD_KEYS_OLD = os.environ.get("CRM_FIELD_KEYS_OLD", "")

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_FOLDER = str(BASE_DIR / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    CRM_TIMEZONE = os.environ.get("CRM_TIMEZONE", "Asia/Shanghai")
    CRM_SCHEDULER = os.environ.get("CRM_SCHEDULER", "off")
    # Above this many matches a filtered list shows "N+" instead of counting every row.
    CRM_COUNT_CAP = int(os.environ.get("CRM_COUNT_CAP", "10000"))
    # An unfiltered list on PostgreSQL shows the planner's row estimate; each process re-reads it
    # after this many seconds (it moves only when ANALYZE or autovacuum runs).
    CRM_ESTIMATE_TTL = float(os.environ.get("CRM_ESTIMATE_TTL", "10"))

    # Outgoing messages (outbox). Email goes through this SMTP server; without CRM_SMTP_HOST emails
    # are only logged (development). SMS: "module:Class" of the sender (a logging one by default).
    CRM_SMTP_HOST = os.environ.get("CRM_SMTP_HOST", "")
    CRM_SMTP_PORT = int(os.environ.get("CRM_SMTP_PORT", "25"))
    CRM_SMTP_USER = os.environ.get("CRM_SMTP_USER", "")
    CRM_SMTP_PASSWORD = os.environ.get("CRM_SMTP_PASSWORD", "")
    CRM_SMTP_FROM = os.environ.get("CRM_SMTP_FROM", "crm@example.invalid")
    CRM_SMTP_STARTTLS = os.environ.get("CRM_SMTP_STARTTLS", "0") == "1"
    CRM_SMS_SENDER = os.environ.get("CRM_SMS_SENDER", "app.services.senders:LoggingSmsSender")
    CRM_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("CRM_OUTBOX_MAX_ATTEMPTS", "5"))
    # No SMS between these local times (HH:MM-HH:MM); a message waits until the end.
    CRM_QUIET_HOURS = os.environ.get("CRM_QUIET_HOURS", "21:00-08:00")
    CRM_MESSAGE_LANGUAGE = os.environ.get("CRM_MESSAGE_LANGUAGE", "zh")  # a customer's default


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
