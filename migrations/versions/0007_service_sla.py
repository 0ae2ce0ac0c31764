"""service levels (SLA policies, ticket clocks) and satisfaction surveys (issue 4, points 5 and 7)

Revision ID: 0007_service_sla
Revises: 0006_service_desk
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_service_sla'
down_revision = '0006_service_desk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_type', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_minutes', sa.Integer(), nullable=False),
    sa.Column('warn_percent', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_type', 'priority', name='uq_sla_policy_type_priority')
    )
    op.create_table('ticket_sla',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('ticket_type', sa.String(length=24), nullable=False),
    sa.Column('response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_minutes', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('response_warn_at', sa.DateTime(), nullable=False),
    sa.Column('response_due', sa.DateTime(), nullable=False),
    sa.Column('resolve_warn_at', sa.DateTime(), nullable=False),
    sa.Column('resolve_due', sa.DateTime(), nullable=False),
    sa.Column('paused_since', sa.DateTime(), nullable=True),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.Column('response_warned_at', sa.DateTime(), nullable=True),
    sa.Column('resolve_warned_at', sa.DateTime(), nullable=True),
    sa.Column('response_breached_at', sa.DateTime(), nullable=True),
    sa.Column('resolve_breached_at', sa.DateTime(), nullable=True),
    sa.Column('response_escalated_at', sa.DateTime(), nullable=True),
    sa.Column('resolve_escalated_at', sa.DateTime(), nullable=True),
    sa.Column('resolve_breaches', sa.Integer(), server_default='0', nullable=False),
    sa.Column('escalated_to_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policy.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('ticket_sla', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_sla_open_response', ['stopped_at', 'responded_at', 'response_warn_at'],
                              unique=False)
        batch_op.create_index('ix_ticket_sla_open_resolve', ['stopped_at', 'resolve_warn_at'], unique=False)
        batch_op.create_index('ix_ticket_sla_started_at', ['started_at'], unique=False)
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index('ix_survey_subject', ['subject_type', 'subject_id'], unique=False)
        batch_op.create_index('ix_survey_answered_at', ['answered_at'], unique=False)
        batch_op.create_index('ix_survey_customer_id', ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_customer_id')
        batch_op.drop_index('ix_survey_answered_at')
        batch_op.drop_index('ix_survey_subject')
    op.drop_table('survey')
    with op.batch_alter_table('ticket_sla', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_sla_started_at')
        batch_op.drop_index('ix_ticket_sla_open_resolve')
        batch_op.drop_index('ix_ticket_sla_open_response')
    op.drop_table('ticket_sla')
    op.drop_table('sla_policy')
