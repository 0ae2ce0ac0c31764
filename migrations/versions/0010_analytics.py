"""analytics: value segments on the customer, monthly segment snapshots, churn models and scores

Revision ID: 0010_analytics
Revises: 0009_knowledge_base
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010_analytics'
down_revision = '0009_knowledge_base'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('at_risk', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('segment_computed_at', sa.DateTime(), nullable=True))
    op.create_table('segment_snapshot',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('segment', sa.String(length=16), nullable=False),
    sa.Column('value_score', sa.Integer(), nullable=False),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('month', 'customer_id')
    )
    with op.batch_alter_table('segment_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_segment_snapshot_month_segment', ['month', 'segment'], unique=False)
        batch_op.create_index('ix_segment_snapshot_customer_id', ['customer_id'], unique=False)
    op.create_table('churn_model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('roc_auc', sa.Float(), nullable=True),
    sa.Column('pr_auc', sa.Float(), nullable=True),
    sa.Column('metrics', sa.Text(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('positives', sa.Integer(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('trained_at', sa.DateTime(), nullable=False),
    sa.Column('trained_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_table('churn_score',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['model_version_id'], ['churn_model_version.id'], ),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('churn_score', schema=None) as batch_op:
        batch_op.create_index('ix_churn_score_score', ['score'], unique=False)
        batch_op.create_index('ix_churn_score_model_version_id', ['model_version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('churn_score', schema=None) as batch_op:
        batch_op.drop_index('ix_churn_score_model_version_id')
        batch_op.drop_index('ix_churn_score_score')
    op.drop_table('churn_score')
    op.drop_table('churn_model_version')
    with op.batch_alter_table('segment_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_snapshot_customer_id')
        batch_op.drop_index('ix_segment_snapshot_month_segment')
    op.drop_table('segment_snapshot')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('segment_computed_at')
        batch_op.drop_column('at_risk')
        batch_op.drop_column('value_score')

