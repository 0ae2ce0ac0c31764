"""care rules and care tasks (issue 5, slice 1)

Revision ID: 0004_care
Revises: 0003_name_search
Create Date: 2026-11-26 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0004_care'
down_revision = '0003_name_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('care_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('target_segment', sa.String(length=16), nullable=True),
    sa.Column('target_plan_type', sa.String(length=16), nullable=True),
    sa.Column('target_city', sa.String(length=32), nullable=True),
    sa.Column('min_tenure_days', sa.Integer(), nullable=True),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('owner_role', sa.String(length=16), nullable=False),
    sa.Column('call_script', sa.Text(), nullable=True),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_days', sa.Integer(), nullable=False),
    sa.Column('covered_through', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('care_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_key', sa.String(length=48), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['completed_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['care_rule.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'rule_id', 'occurrence_key', name='uq_care_task_occurrence')
    )
    with op.batch_alter_table('care_task', schema=None) as batch_op:
        batch_op.create_index('ix_care_task_assignee_status_due', ['assignee_id', 'status', 'due_date'], unique=False)
        batch_op.create_index('ix_care_task_status_due', ['status', 'due_date'], unique=False)
        batch_op.create_index('ix_care_task_rule_id', ['rule_id'], unique=False)


def downgrade():
    with op.batch_alter_table('care_task', schema=None) as batch_op:
        batch_op.drop_index('ix_care_task_rule_id')
        batch_op.drop_index('ix_care_task_status_due')
        batch_op.drop_index('ix_care_task_assignee_status_due')
    op.drop_table('care_task')
    op.drop_table('care_rule')
