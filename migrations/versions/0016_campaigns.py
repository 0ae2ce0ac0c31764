"""campaigns: target segments, launches, contacts, attribution (issue 5.6)

Revision ID: 0016_campaigns
Revises: 0015_merge
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016_campaigns'
down_revision = '0015_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('template_code', sa.String(length=32), nullable=True),
    sa.Column('offer', sa.Text(), nullable=True),
    sa.Column('conversion_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('launched_by_id', sa.Integer(), nullable=True),
    sa.Column('launched_at', sa.DateTime(), nullable=True),
    sa.Column('attributed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id']),
    sa.ForeignKeyConstraint(['launched_by_id'], ['ab_user.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_campaign_status', 'campaign', ['status'], unique=False)
    op.create_table('campaign_launch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', name='uq_campaign_launch_campaign_id')
    )
    op.create_table('campaign_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contacted_at', sa.DateTime(), nullable=False),
    sa.Column('contact_day', sa.Date(), nullable=False),
    sa.Column('window_ends_at', sa.DateTime(), nullable=False),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('converted_at', sa.DateTime(), nullable=True),
    sa.Column('conversion_kind', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'customer_id', name='uq_campaign_contact')
    )
    op.create_index('ix_campaign_contact_customer_at', 'campaign_contact', ['customer_id', 'contacted_at'],
                    unique=False)
    op.create_index('ix_campaign_contact_campaign_day', 'campaign_contact', ['campaign_id', 'contact_day'],
                    unique=False)


def downgrade():
    op.drop_index('ix_campaign_contact_campaign_day', table_name='campaign_contact')
    op.drop_index('ix_campaign_contact_customer_at', table_name='campaign_contact')
    op.drop_table('campaign_contact')
    op.drop_table('campaign_launch')
    op.drop_index('ix_campaign_status', table_name='campaign')
    op.drop_table('campaign')
