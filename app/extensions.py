"""Flask extensions, created unbound here and bound to the app in `create_app`."""

from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
appbuilder = AppBuilder()
migrate = Migrate()
csrf = CSRFProtect()
