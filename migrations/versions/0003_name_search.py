"""short name search: a character-gram index for 1- and 2-character "contains" on PostgreSQL

Chinese names are two or three characters, so a clerk's "contains" search is often two
characters (王静). pg_trgm cannot serve a pattern shorter than three characters and falls back
to scanning every row; this GIN index over each name's single characters and character pairs
answers those searches. Longer terms keep using ix_customer_name_trgm.

Revision ID: 0003_name_search
Revises: 0002_job_tables
"""

from alembic import op

revision = "0003_name_search"
down_revision = "0002_job_tables"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION crm_grams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT substr(t, i, n)), '{}')
            FROM generate_series(1, char_length(t)) AS i, (VALUES (1), (2)) AS g(n)
            WHERE i + n - 1 <= char_length(t)
        $$
    """)
    op.execute("CREATE INDEX ix_customer_name_grams ON customer USING gin (crm_grams(name))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_customer_name_grams")
    op.execute("DROP FUNCTION IF EXISTS crm_grams(text)")
