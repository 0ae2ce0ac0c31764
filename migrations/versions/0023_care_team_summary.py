"""care team page per-assignee summary

`care_task_daily`: care task counts per assignee × due day × status, written by triggers on
`care_task` in the transaction of each write (see app/models/care_summary.py), and filled here from
the existing tasks.

Revision ID: 0023_care_team_summary
Revises: 0022_service_summary
Create Date: 2026-11-26 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023_care_team_summary'
down_revision = '0022_service_summary'
branch_labels = None
depends_on = None

# PostgreSQL: one trigger per statement and event (a trigger with transition tables takes one
# event), each a single grouped INSERT over the rows the statement changed, so a daily run inserting
# 120,000 tasks adds a few hundred summary rows in one statement. An UPDATE nets old against new
# per key: a change that moves no task between keys (notes, attempts, customer) writes nothing.
PG_FUNCTIONS = {
    "insert": """
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        SELECT assignee_id, due_date, status, count(*) FROM new_rows GROUP BY assignee_id, due_date, status""",
    "update": """
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        SELECT assignee_id, due_date, status, sum(n) FROM (
            SELECT assignee_id, due_date, status, -1 AS n FROM old_rows
            UNION ALL SELECT assignee_id, due_date, status, 1 FROM new_rows) AS moved
        GROUP BY assignee_id, due_date, status HAVING sum(n) <> 0""",
    "delete": """
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        SELECT assignee_id, due_date, status, -count(*) FROM old_rows GROUP BY assignee_id, due_date, status""",
}
PG_TRANSITIONS = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                  "delete": "OLD TABLE AS old_rows"}

# SQLite has no statement triggers: one summary row per task written.
SQLITE_TRIGGERS = {
    "insert": """AFTER INSERT ON care_task BEGIN
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        VALUES (NEW.assignee_id, NEW.due_date, NEW.status, 1);
    END""",
    "update": """AFTER UPDATE OF assignee_id, due_date, status ON care_task
        WHEN OLD.assignee_id IS NOT NEW.assignee_id OR OLD.due_date IS NOT NEW.due_date
             OR OLD.status IS NOT NEW.status BEGIN
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        VALUES (OLD.assignee_id, OLD.due_date, OLD.status, -1), (NEW.assignee_id, NEW.due_date, NEW.status, 1);
    END""",
    "delete": """AFTER DELETE ON care_task BEGIN
        INSERT INTO care_task_daily (assignee_id, due_date, status, n)
        VALUES (OLD.assignee_id, OLD.due_date, OLD.status, -1);
    END""",
}


def upgrade():
    op.create_table('care_task_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_care_task_daily_status_due', 'care_task_daily', ['status', 'due_date'])
    # Triggers before the fill, in one transaction: on PostgreSQL CREATE TRIGGER locks care_task
    # against writes until commit, so no task is counted twice or missed.
    if op.get_bind().dialect.name == "postgresql":
        for event, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION care_task_daily_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN{body};\n    RETURN NULL;\nEND $$")
            op.execute(f"CREATE TRIGGER care_task_daily_{event} AFTER {event.upper()} ON care_task "
                       f"REFERENCING {PG_TRANSITIONS[event]} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION care_task_daily_{event}()")
    else:
        for event, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER care_task_daily_{event} {body}")
    op.execute("INSERT INTO care_task_daily (assignee_id, due_date, status, n) "
               "SELECT assignee_id, due_date, status, count(*) FROM care_task GROUP BY assignee_id, due_date, status")


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for event in PG_FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS care_task_daily_{event}" + (" ON care_task" if pg else ""))
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS care_task_daily_{event}()")
    op.drop_index('ix_care_task_daily_status_due', table_name='care_task_daily')
    op.drop_table('care_task_daily')
