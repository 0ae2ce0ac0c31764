"""customer list / search performance at 1M

The customer list sorts by name, city or creation time with the id as FAB's tie-breaker, and a
Sales user's rows are `owner_id = me`. The single-column indexes made a deep page an index scan
with a heap fetch per skipped row and a sort of each run of equal values (page 20,000 by name:
1.5 s). (column, id) INCLUDE (owner_id) makes the same walk index-only, including under the Sales
row rule, and serves every lookup the single-column index did, so it replaces it.

Revision ID: 0024_list_perf
Revises: 0023_care_team_summary
Create Date: 2026-11-26 20:00:00

"""
from alembic import op

revision = '0024_list_perf'
down_revision = '0023_care_team_summary'
branch_labels = None
depends_on = None

# (old single-column index, new index name, column)
INDEXES = [
    ("ix_customer_name", "ix_customer_name_id", "name"),
    ("ix_customer_city", "ix_customer_city_id", "city"),
    ("ix_customer_created_at", "ix_customer_created_at_id", "created_at"),
]


def upgrade():
    for old, new, column in INDEXES:
        op.create_index(new, 'customer', [column, 'id'], unique=False, postgresql_include=['owner_id'])
        op.drop_index(old, table_name='customer')


def downgrade():
    for old, new, column in INDEXES:
        op.create_index(old, 'customer', [column], unique=False)
        op.drop_index(new, table_name='customer')
