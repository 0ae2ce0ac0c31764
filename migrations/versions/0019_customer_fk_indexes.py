"""indexes: the last two foreign keys to customer (lead, sales_order), which a merge or a 360 page reads;
the agenda's sort order in the care task index (a person's open tasks by due date, priority, id);
contact_log.follow_up_task_id, which every delete of a care task checks; id in the team page's open-task index

Revision ID: 0019_customer_fk_indexes
Revises: 0018_locking
Create Date: 2026-11-26 18:10:00

"""
from alembic import op

revision = '0019_customer_fk_indexes'
down_revision = '0018_locking'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_lead_customer_id', 'lead', ['customer_id'])
    op.create_index('ix_sales_order_customer_id', 'sales_order', ['customer_id'])
    op.drop_index('ix_care_task_assignee_status_due', table_name='care_task')
    op.create_index('ix_care_task_agenda', 'care_task', ['assignee_id', 'status', 'due_date', 'priority', 'id'])
    op.create_index('ix_contact_log_follow_up_task_id', 'contact_log', ['follow_up_task_id'])
    op.drop_index('ix_care_task_status_due', table_name='care_task')
    op.create_index('ix_care_task_status_due', 'care_task', ['status', 'due_date', 'id'])


def downgrade():
    op.drop_index('ix_care_task_status_due', table_name='care_task')
    op.create_index('ix_care_task_status_due', 'care_task', ['status', 'due_date'])
    op.drop_index('ix_contact_log_follow_up_task_id', table_name='contact_log')
    op.drop_index('ix_care_task_agenda', table_name='care_task')
    op.create_index('ix_care_task_assignee_status_due', 'care_task', ['assignee_id', 'status', 'due_date'])
    op.drop_index('ix_sales_order_customer_id', table_name='sales_order')
    op.drop_index('ix_lead_customer_id', table_name='lead')
