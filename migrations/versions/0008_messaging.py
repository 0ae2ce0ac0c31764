"""messaging tables (placeholder until the area lands)

Revision ID: 0008_messaging
Revises: 0007_service_sla
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0008_messaging'
down_revision = '0007_service_sla'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
