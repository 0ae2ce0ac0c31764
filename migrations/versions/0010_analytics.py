"""analytics tables (placeholder until the area lands)

Revision ID: 0010_analytics
Revises: 0009_knowledge_base
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0010_analytics'
down_revision = '0009_knowledge_base'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
