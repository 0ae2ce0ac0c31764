"""service_sla tables (placeholder until the area lands)

Revision ID: 0007_service_sla
Revises: 0006_service_desk
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0007_service_sla'
down_revision = '0006_service_desk'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
