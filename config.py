"""Application settings, read from the environment.

Secrets: in development `CRM_SECRET_KEY` and `CRM_FIELD_KEY` are generated once into `instance/`
and reused; with `CRM_ENV=production` a missing key stops start-up with a clear message.
"""

from __future__ import annotations

import base64
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
    JWT_ACCESS_TOKEN_EXPIRES = 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

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


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
