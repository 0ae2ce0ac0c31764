"""dashboards: pre-aggregated KPI tables for the manager home page (issue 6.5)

Revision ID: 0017_dashboards
Revises: 0016_campaigns
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017_dashboards'
down_revision = '0016_campaigns'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_snapshot_kind_computed_at", "kpi_snapshot", ["kind", "computed_at"])


def downgrade():
    op.drop_index("ix_kpi_snapshot_kind_computed_at", table_name="kpi_snapshot")
    op.drop_table("kpi_snapshot")
