"""customer merge: aliases of merged customers (issue 8.5)

Revision ID: 0015_merge
Revises: 0014_teams
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0015_merge'
down_revision = '0014_teams'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
