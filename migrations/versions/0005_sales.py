"""sales: leads, opportunities (+ stage changes), contact logs, playbook, orders; care_task follow-ups

Revision ID: 0005_sales
Revises: 0004_care
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005_sales'
down_revision = '0004_care'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def _stamps():
    return [sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade():
    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('id_number_enc', sa.Text(), nullable=True),
    sa.Column('id_number_bidx', sa.String(length=64), nullable=True),
    sa.Column('id_number_masked', sa.String(length=18), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.Column('city', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('interest_plan_id', sa.Integer(), sa.ForeignKey('plan.id'), nullable=True),
    sa.Column('interest', sa.String(length=128), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disqualify_reason', sa.String(length=255), nullable=True),
    sa.Column('priority_score', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=True),
    sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id'), nullable=True),
    sa.Column('converted_at', sa.DateTime(), nullable=True),
    sa.Column('created_customer', sa.Boolean(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    *_stamps(),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lead_owner_status_score', 'lead', ['owner_id', 'status', 'priority_score'])
    op.create_index('ix_lead_status_score', 'lead', ['status', 'priority_score'])
    op.create_index('ix_lead_mobile', 'lead', ['mobile'])
    op.create_index('ix_lead_id_number_bidx', 'lead', ['id_number_bidx'])
    op.create_index('ix_lead_converted_at', 'lead', ['converted_at'])

    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id'), nullable=False),
    sa.Column('lead_id', sa.Integer(), sa.ForeignKey('lead.id'), nullable=True),
    sa.Column('owner_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('expected_revenue', MONEY, nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('plan_id', sa.Integer(), sa.ForeignKey('plan.id'), nullable=True),
    sa.Column('products', sa.String(length=255), nullable=True),
    sa.Column('lost_reason', sa.String(length=255), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('reached_rank', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('version', sa.Integer(), nullable=False),
    *_stamps(),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_opportunity_owner_stage', 'opportunity', ['owner_id', 'stage'])
    op.create_index('ix_opportunity_stage_closed', 'opportunity',
                    ['stage', 'closed_at', 'owner_id', 'expected_revenue', 'lost_reason'])
    op.create_index('ix_opportunity_customer_id', 'opportunity', ['customer_id'])
    op.create_index('ix_opportunity_lead_id', 'opportunity', ['lead_id'])
    op.create_index('ix_opportunity_created_at', 'opportunity', ['created_at', 'owner_id', 'reached_rank'])

    op.create_table('opportunity_stage_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), sa.ForeignKey('opportunity.id'), nullable=False),
    sa.Column('from_stage', sa.String(length=16), nullable=True),
    sa.Column('to_stage', sa.String(length=16), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_opportunity_stage_change_opp', 'opportunity_stage_change', ['opportunity_id', 'changed_at'])
    op.create_index('ix_opportunity_stage_change_to', 'opportunity_stage_change', ['to_stage', 'opportunity_id'])

    # Follow-up tasks from contact logs live in the shared care_task table: no rule, maybe no
    # customer (a lead), and a reference to what they follow up.
    with op.batch_alter_table('care_task', schema=None) as batch_op:
        batch_op.alter_column('rule_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('source_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=255), nullable=True))

    op.create_table('contact_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), sa.ForeignKey('lead.id'), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), sa.ForeignKey('opportunity.id'), nullable=True),
    sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id'), nullable=True),
    sa.Column('contacted_at', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('next_step', sa.String(length=255), nullable=True),
    sa.Column('next_contact_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('follow_up_task_id', sa.Integer(), sa.ForeignKey('care_task.id'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_contact_log_owner_at', 'contact_log', ['owner_id', 'contacted_at'])
    op.create_index('ix_contact_log_lead', 'contact_log', ['lead_id'])
    op.create_index('ix_contact_log_opportunity', 'contact_log', ['opportunity_id'])
    op.create_index('ix_contact_log_customer', 'contact_log', ['customer_id'])

    op.create_table('sales_playbook_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('material', sa.String(length=255), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('discount_threshold', sa.Numeric(5, 2), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    *_stamps(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    )
    op.create_table('sales_playbook_done',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), sa.ForeignKey('opportunity.id'), nullable=False),
    sa.Column('action_id', sa.Integer(), sa.ForeignKey('sales_playbook_action.id'), nullable=False),
    sa.Column('done_by_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('opportunity_id', 'action_id', name='uq_sales_playbook_done'),
    )

    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), sa.ForeignKey('opportunity.id'), nullable=False),
    sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id'), nullable=False),
    sa.Column('owner_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', MONEY, nullable=False),
    sa.Column('list_total', MONEY, nullable=False),
    sa.Column('notes', sa.String(length=255), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=255), nullable=True),
    sa.Column('payment_id', sa.Integer(), sa.ForeignKey('payment.id'), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    *_stamps(),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sales_order_owner_state', 'sales_order', ['owner_id', 'state'])
    op.create_index('ix_sales_order_state', 'sales_order', ['state'])
    op.create_index('ix_sales_order_opportunity', 'sales_order', ['opportunity_id'])
    op.create_table('sales_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), sa.ForeignKey('sales_order.id'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('plan_id', sa.Integer(), sa.ForeignKey('plan.id'), nullable=True),
    sa.Column('vas_id', sa.Integer(), sa.ForeignKey('value_added_service.id'), nullable=True),
    sa.Column('description', sa.String(length=128), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', MONEY, nullable=False),
    sa.Column('list_price', MONEY, nullable=False),
    sa.Column('subscription_id', sa.Integer(), sa.ForeignKey('subscription.id'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sales_order_line_order', 'sales_order_line', ['order_id'])


def downgrade():
    op.drop_table('sales_order_line')
    op.drop_table('sales_order')
    op.drop_table('sales_playbook_done')
    op.drop_table('sales_playbook_action')
    op.drop_table('contact_log')
    op.execute("DELETE FROM care_task WHERE rule_id IS NULL OR customer_id IS NULL")
    with op.batch_alter_table('care_task', schema=None) as batch_op:
        batch_op.drop_column('title')
        batch_op.drop_column('source_id')
        batch_op.drop_column('source_type')
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('rule_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('opportunity_stage_change')
    op.drop_table('opportunity')
    op.drop_table('lead')
