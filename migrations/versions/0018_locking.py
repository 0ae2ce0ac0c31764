"""optimistic locking: version columns on the remaining editable records (issue 7.5)

Revision ID: 0018_locking
Revises: 0017_dashboards
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0018_locking'
down_revision = '0017_dashboards'
branch_labels = None
depends_on = None

# Tables whose rows users edit and that had no version column yet. server_default '1' gives the
# existing rows (and bulk loads that do not name the column) a valid first version.
TABLES = ("kb_category", "sales_playbook_action", "ticket_routing_rule", "contact_log", "subscription")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('version')
