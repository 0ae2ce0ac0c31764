"""team hierarchy: teams with leads, department heads, users' teams (issue 8.3)

Revision ID: 0014_teams
Revises: 0013_bulk_views
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0014_teams'
down_revision = '0013_bulk_views'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
