"""indexes for the sales and service work lists (lead list by priority, opportunity board, ticket queue)

Each list shows a short first page of one person's rows in a fixed order. Without an index in that
order the database fetched and sorted all of them first (a salesperson's 65,000 leads, an agent's
8,000 open tickets). The lead list and the board's won/lost columns read their index backwards.

Revision ID: 0025_worklist_indexes
Revises: 0024_list_perf
Create Date: 2026-11-26 21:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0025_worklist_indexes'
down_revision = '0024_list_perf'
branch_labels = None
depends_on = None

OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_customer", "transferred", "reopened")


def _open() -> sa.ColumnElement:
    return sa.column("status").in_(OPEN_STATUSES)


def upgrade():
    op.create_index('ix_lead_owner_score_id', 'lead', ['owner_id', 'priority_score', 'id'], unique=False)
    op.create_index('ix_opportunity_owner_stage_close_date', 'opportunity',
                    ['owner_id', 'stage', 'expected_close_date', 'id'], unique=False,
                    postgresql_include=['expected_revenue'])
    op.create_index('ix_opportunity_owner_stage_closed_at', 'opportunity',
                    ['owner_id', 'stage', 'closed_at', 'id'], unique=False)
    op.create_index('ix_ticket_open_queue', 'ticket', ['assignee_id', 'priority', 'created_at', 'id'],
                    unique=False, postgresql_where=_open(), sqlite_where=_open())


def downgrade():
    op.drop_index('ix_ticket_open_queue', table_name='ticket')
    op.drop_index('ix_opportunity_owner_stage_closed_at', table_name='opportunity')
    op.drop_index('ix_opportunity_owner_stage_close_date', table_name='opportunity')
    op.drop_index('ix_lead_owner_score_id', table_name='lead')
