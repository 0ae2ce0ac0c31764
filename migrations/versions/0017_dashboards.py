"""dashboards: pre-aggregated KPI tables for the manager home page (issue 6.5)

Revision ID: 0017_dashboards
Revises: 0016_campaigns
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0017_dashboards'
down_revision = '0016_campaigns'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
