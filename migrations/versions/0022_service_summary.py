"""service statistics daily summary and ticket indexes

Revision ID: 0022_service_summary
Revises: 0021_sales_summary
Create Date: 2026-11-26 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0022_service_summary'
down_revision = '0021_sales_summary'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "ticket_type"),
    )
    op.create_table(
        "ticket_csat_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Integer(), nullable=False),
        sa.Column("happy", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "service_summary_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_resolved_at", "ticket", ["resolved_at"],
                    postgresql_include=["created_at", "ticket_type", "transfer_count", "reopen_count"])
    op.create_index("ix_ticket_transferred_created", "ticket", ["created_at"],
                    postgresql_where=sa.text("transfer_count > 0"), sqlite_where=sa.text("transfer_count > 0"))
    op.create_index("ix_ticket_complaint_created", "ticket", ["created_at"], postgresql_include=["customer_id"],
                    postgresql_where=sa.text("ticket_type = 'complaint'"),
                    sqlite_where=sa.text("ticket_type = 'complaint'"))
    op.create_index("ix_ticket_sla_started_breaches", "ticket_sla", ["started_at"],
                    postgresql_include=["ticket_type", "response_breached_at", "resolve_breaches"])


def downgrade():
    op.drop_index("ix_ticket_sla_started_breaches", table_name="ticket_sla")
    op.drop_index("ix_ticket_complaint_created", table_name="ticket")
    op.drop_index("ix_ticket_transferred_created", table_name="ticket")
    op.drop_index("ix_ticket_resolved_at", table_name="ticket")
    op.drop_table("service_summary_state")
    op.drop_table("ticket_csat_daily")
    op.drop_table("ticket_daily")
