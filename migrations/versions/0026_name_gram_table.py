"""short name search, index-only: each customer's name characters and character pairs as rows

A two-character "contains" (a given name such as 秀荣, ~8,700 of a million customers) was answered
by the GIN index of migration 0003, but GIN cannot return row ids by itself: PostgreSQL still read
every matching customer row (~8,000 heap pages, 25–30 ms) to count them and pick the page. This
table holds the grams of `lower(name)`, one row per (gram, customer), under a B-tree primary key,
so "which customers have 秀荣 in their name" is an index-only scan (about 2 ms) and the page's ids
come in order from the same index. Lower case because FAB's "contains" is ILIKE, which folds case
as `lower()` does: "ab" finds "Abby" here too (the GIN index keeps case and serves caseless terms).

PostgreSQL only, like `crm_grams()` and the GIN index, which stays for searches that combine a
short name with other filters (there the customer rows are read anyway). The rows are kept by
triggers on `customer` in the transaction of each write, so every writer is covered (forms, API,
imports by COPY, merges, erasure, seeds): set-based statement triggers for INSERT and DELETE (an
import of 100,000 customers is one INSERT here), a row trigger for a change of name, and TRUNCATE.
The seed loads with triggers off (`session_replication_role = replica`) and fills its rows itself.

Index-only scans skip the table only on pages the visibility map marks all-visible: `crm seed`
vacuums this table; after this migration on a large database, `VACUUM customer_name_gram` (or
autovacuum) does it. Until then the answers are the same, only slower.

Revision ID: 0026_name_gram_table
Revises: 0025_worklist_indexes
Create Date: 2026-11-27 02:00:00

"""
from alembic import op

revision = '0026_name_gram_table'
down_revision = '0025_worklist_indexes'
branch_labels = None
depends_on = None

# One function and trigger each; the insert and delete triggers see the statement's rows at once.
PG_TRIGGERS = {
    "insert": ("""
        INSERT INTO customer_name_gram (gram, customer_id)
        SELECT g, n.id FROM new_rows AS n, unnest(crm_grams(lower(n.name))) AS g
        ON CONFLICT DO NOTHING""",
               "AFTER INSERT ON customer REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"),
    "delete": ("""
        DELETE FROM customer_name_gram AS x USING old_rows AS o, unnest(crm_grams(lower(o.name))) AS g
        WHERE x.gram = g AND x.customer_id = o.id""",
               "AFTER DELETE ON customer REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"),
    # A statement trigger with transition tables cannot name columns (UPDATE OF): it would run on
    # every customer update. Renames are rare, so a row trigger that fires only for them.
    "rename": ("""
        DELETE FROM customer_name_gram WHERE customer_id = OLD.id AND gram = ANY(crm_grams(lower(OLD.name)));
        INSERT INTO customer_name_gram (gram, customer_id)
        SELECT g, NEW.id FROM unnest(crm_grams(lower(NEW.name))) AS g ON CONFLICT DO NOTHING""",
               "AFTER UPDATE OF name ON customer FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)"),
    "truncate": ("TRUNCATE customer_name_gram", "AFTER TRUNCATE ON customer FOR EACH STATEMENT"),
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE customer_name_gram (gram text NOT NULL, customer_id integer NOT NULL)")
    # Triggers before the fill, in one transaction: CREATE TRIGGER locks customer against writes
    # until commit, so no customer is missed or filled twice. The key comes after the fill (faster).
    for name, (body, when) in PG_TRIGGERS.items():
        op.execute(f"CREATE FUNCTION customer_name_gram_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                   f"BEGIN\n{body};\n    RETURN NULL;\nEND $$")
        op.execute(f"CREATE TRIGGER customer_name_gram_{name} {when} "
                   f"EXECUTE FUNCTION customer_name_gram_{name}()")
    op.execute("INSERT INTO customer_name_gram (gram, customer_id) "
               "SELECT g, c.id FROM customer AS c, unnest(crm_grams(lower(c.name))) AS g")
    op.execute("ALTER TABLE customer_name_gram ADD CONSTRAINT pk_customer_name_gram PRIMARY KEY (gram, customer_id)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS customer_name_gram_{name} ON customer")
        op.execute(f"DROP FUNCTION IF EXISTS customer_name_gram_{name}()")
    op.execute("DROP TABLE IF EXISTS customer_name_gram")
