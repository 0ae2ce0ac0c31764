"""service_desk tables (placeholder until the area lands)

Revision ID: 0006_service_desk
Revises: 0005_sales
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0006_service_desk'
down_revision = '0005_sales'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
