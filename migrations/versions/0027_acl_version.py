"""acl_version: a counter the permission tables' triggers move, so processes may keep permissions

See app/models/acl_version.py. PostgreSQL: one trigger per table and statement (INSERT, UPDATE,
DELETE, TRUNCATE); SQLite: one per table and event, per row.

Revision ID: 0027_acl_version
Revises: 0026_name_gram_table
Create Date: 2026-11-27 02:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0027_acl_version'
down_revision = '0026_name_gram_table'
branch_labels = None
depends_on = None

ACL_TABLES = ("ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role")
BUMP = "UPDATE acl_version SET n = n + 1 WHERE id = 1"
SQLITE_EVENTS = ("insert", "update", "delete")


def upgrade():
    op.create_table('acl_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO acl_version (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION acl_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                   f"BEGIN\n    {BUMP};\n    RETURN NULL;\nEND $$")
        for table in ACL_TABLES:
            op.execute(f"CREATE TRIGGER acl_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION acl_version_bump()")
    else:
        for table in ACL_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"CREATE TRIGGER acl_version_{table}_{event} AFTER {event.upper()} ON {table} "
                           f"BEGIN {BUMP}; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in ACL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS acl_version_bump ON {table}")
        op.execute("DROP FUNCTION IF EXISTS acl_version_bump()")
    else:
        for table in ACL_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS acl_version_{table}_{event}")
    op.drop_table('acl_version')
