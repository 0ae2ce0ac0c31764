"""hardening tables (placeholder until the area lands)

Revision ID: 0011_hardening
Revises: 0010_analytics
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0011_hardening'
down_revision = '0010_analytics'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
