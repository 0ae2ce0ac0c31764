"""sales dashboard daily summary

Revision ID: 0021_sales_summary
Revises: 0020_customer_language
Create Date: 2026-11-26 20:00:00

The table starts empty; `crm init` fills it once from the live tables after this upgrade
(`sales_summary.ensure_built`), with the operator's time zone, which a migration does not know.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_sales_summary'
down_revision = '0020_customer_language'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sales_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("owner_key", sa.Integer(), nullable=False),
        sa.Column("reached_rank", sa.SmallInteger(), nullable=False),
        sa.Column("lost_reason", sa.String(length=255), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(16, 2), nullable=False),
        sa.PrimaryKeyConstraint("metric", "day", "owner_key", "reached_rank", "lost_reason", name="pk_sales_daily"),
    )


def downgrade():
    op.drop_table("sales_daily")
