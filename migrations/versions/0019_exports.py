"""exports: what list and analytics exports need stored (issue 6.6)

Revision ID: 0019_exports
Revises: 0018_locking
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0019_exports'
down_revision = '0018_locking'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
