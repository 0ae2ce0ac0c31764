"""knowledge_base tables (placeholder until the area lands)

Revision ID: 0009_knowledge_base
Revises: 0008_messaging
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0009_knowledge_base'
down_revision = '0008_messaging'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
