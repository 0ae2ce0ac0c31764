"""imports: saved column mappings and import runs (issue 8.1)

Revision ID: 0012_imports
Revises: 0011_hardening
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0012_imports'
down_revision = '0011_hardening'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
