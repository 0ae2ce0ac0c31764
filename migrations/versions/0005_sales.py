"""sales tables (placeholder until the area lands)

Revision ID: 0005_sales
Revises: 0004_care
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0005_sales'
down_revision = '0004_care'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
