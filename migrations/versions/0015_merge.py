"""customer merge: aliases of merged customers (issue 8.5)

Revision ID: 0015_merge
Revises: 0014_teams
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015_merge'
down_revision = '0014_teams'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_alias",
        sa.Column("old_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["customer.id"], name="fk_customer_alias_survivor_id",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merged_by_id"], ["ab_user.id"], name="fk_customer_alias_merged_by_id"),
        sa.PrimaryKeyConstraint("old_id", name="pk_customer_alias"),
    )
    op.create_index("ix_customer_alias_survivor_id", "customer_alias", ["survivor_id"])


def downgrade():
    op.drop_index("ix_customer_alias_survivor_id", table_name="customer_alias")
    op.drop_table("customer_alias")
