"""customer language (zh/en) for personalised messages; outbox rendered at send time

customer.language is NOT NULL with a constant server default: on PostgreSQL 11+ adding it to a
million-row table only changes the catalogue (no rewrite), and existing rows read as 'zh'.
outbox_message.render_at_send marks rows whose text the sender writes just before sending (rows
queued before this revision keep the body they were queued with: false); rendered_at is when the
text on the row was written.

Revision ID: 0020_customer_language
Revises: 0019_customer_fk_indexes
Create Date: 2026-11-26 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020_customer_language'
down_revision = '0019_customer_fk_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='zh'))
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('render_at_send', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('rendered_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('rendered_at')
        batch.drop_column('render_at_send')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('language')
