"""bulk actions and saved views: bulk jobs, tags, saved list views (issue 8.2, 8.4)

Revision ID: 0013_bulk_views
Revises: 0012_imports
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013_bulk_views'
down_revision = '0012_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulk_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", name="fk_bulk_job_user_id"), nullable=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_bulk_job_user_created", "bulk_job", ["user_id", "created_at"])
    op.create_index("ix_bulk_job_status", "bulk_job", ["status"])

    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_tag_name"),
    )
    op.create_table(
        "customer_tag",
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customer.id", name="fk_customer_tag_customer_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tag.id", name="fk_customer_tag_tag_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_customer_tag_tag_id", "customer_tag", ["tag_id", "customer_id"])

    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", name="fk_saved_view_user_id"), nullable=False),
        sa.Column("view_name", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "view_name", "name", name="uq_saved_view_user_view_name"),
    )
    op.create_index("ix_saved_view_view_name", "saved_view", ["view_name", "shared"])
    op.create_table(
        "saved_view_pin",
        sa.Column("view_id", sa.Integer(),
                  sa.ForeignKey("saved_view.id", name="fk_saved_view_pin_view_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id", name="fk_saved_view_pin_user_id"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_saved_view_pin_user", "saved_view_pin", ["user_id", "position"])


def downgrade():
    op.drop_index("ix_saved_view_pin_user", table_name="saved_view_pin")
    op.drop_table("saved_view_pin")
    op.drop_index("ix_saved_view_view_name", table_name="saved_view")
    op.drop_table("saved_view")
    op.drop_index("ix_customer_tag_tag_id", table_name="customer_tag")
    op.drop_table("customer_tag")
    op.drop_table("tag")
    op.drop_index("ix_bulk_job_status", table_name="bulk_job")
    op.drop_index("ix_bulk_job_user_created", table_name="bulk_job")
    op.drop_table("bulk_job")
